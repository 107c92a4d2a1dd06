public enum RestorePlaceholderX {}
