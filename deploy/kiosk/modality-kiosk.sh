#!/bin/sh
# The cart's touch display: Chromium in kiosk mode on the local cart page, restarted if it
# dies. Started by the desktop session (labwc or wayfire autostart, see docs/deploy.md).
set -u

URL="${MODALITY_URL:-http://127.0.0.1:8080/}"
BROWSER="${MODALITY_BROWSER:-chromium-browser}"
command -v "$BROWSER" >/dev/null 2>&1 || BROWSER=chromium

# Wait for the cart service to answer (it starts at boot, before the desktop).
tries=0
until curl -fsS -o /dev/null "${URL}api/session" 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then
    echo "modality-kiosk: the cart page at $URL does not answer; starting the browser anyway" >&2
    break
  fi
  sleep 1
done

# Restart the browser whenever it exits (a crash, or someone closing it); a short pause keeps
# a browser that cannot start from spinning.
while :; do
  "$BROWSER" --kiosk --noerrdialogs --disable-infobars --no-first-run \
    --disable-session-crashed-bubble --disable-features=Translate \
    --ozone-platform=wayland --touch-events=enabled \
    --disable-background-networking --disable-component-update --disable-sync \
    "$URL"
  echo "modality-kiosk: the browser exited ($?); starting it again" >&2
  sleep 2
done
