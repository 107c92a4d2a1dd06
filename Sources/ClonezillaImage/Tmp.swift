public enum ImgTmp {}
