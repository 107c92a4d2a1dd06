#!/usr/bin/env bash
# The project's test command: build everything, then run every test suite.
# Tests that need root, loop devices or a real tool skip with a reason when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
