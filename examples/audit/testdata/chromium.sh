#!/bin/sh
# Installs Debian's chromium when it is missing (needs root and apt), then runs the browser
# tests of the audit report: the report rendered from the real corpus is opened in headless
# Chromium, screenshotted and checked for console errors. The screenshot is kept in
# ${AUDIT_SCREENSHOT_DIR:-/tmp}/audit-report.png.
set -eu
cd "$(dirname "$0")/../../.."
if ! command -v chromium >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "chromium.sh: chromium is missing and installing it needs root" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
chromium --version
export AUDIT_SCREENSHOT_DIR="${AUDIT_SCREENSHOT_DIR:-/tmp}"
go test -count=1 -run 'Chromium' -v ./examples/audit
echo "screenshot: $AUDIT_SCREENSHOT_DIR/audit-report.png"
