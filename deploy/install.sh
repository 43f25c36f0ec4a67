#!/bin/sh
# Install modality on a treatment cart: Raspberry Pi 4 or 5, 64-bit Raspberry Pi OS bookworm.
#
#   sudo sh deploy/install.sh <modality-x.y.z.tgz> <board-serial> [<desktop-user>]
#
# <board-serial>: the board's USB serial number (udevadm info --attribute-walk
# --name=/dev/ttyACM0 | grep serial). <desktop-user>: who logs in on the touch display
# (default: the user who ran sudo). Every step is in docs/deploy.md; this script only does them.
set -eu

die() { echo "install: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo sh deploy/install.sh ...)"
[ $# -ge 2 ] || die "usage: sudo sh deploy/install.sh <modality-x.y.z.tgz> <board-serial> [<desktop-user>]"
tarball=$1
serial=$2
desktop_user=${3:-${SUDO_USER:-}}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$tarball" ] || die "no package $tarball (build it with: npm run build && npm pack)"
case $serial in
  *[!A-Za-z0-9_.-]*|'') die "the board serial '$serial' has characters a udev rule cannot match" ;;
esac

# 1. Node.js 20 or newer
command -v node >/dev/null 2>&1 || die "Node.js is not installed: install Node.js 20 or newer first (docs/deploy.md, step 2)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: modality needs 20 or newer (docs/deploy.md, step 2)"

# 2. the package
npm install -g --omit=dev "$tarball"
command -v modality >/dev/null 2>&1 || die "npm did not install the modality command"

# 3. the service user: owns the records, may open serial ports
if ! id modality >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/modality --no-create-home --shell /usr/sbin/nologin modality
fi
usermod -a -G dialout modality

# 4. the board's stable name
sed "s/BOARD_SERIAL/$serial/" "$here/99-modality-board.rules" > /etc/udev/rules.d/99-modality-board.rules
udevadm control --reload-rules
udevadm trigger --subsystem-match=tty

# 5. the service
modality_bin=$(command -v modality)
sed "s#/usr/local/bin/modality#$modality_bin#" "$here/modality-cart.service" > /etc/systemd/system/modality-cart.service
systemctl daemon-reload
systemctl enable --now modality-cart.service

# 6. the kiosk on the touch display
install -d /usr/local/lib/modality
install -m 0755 "$here/kiosk/modality-kiosk.sh" /usr/local/lib/modality/modality-kiosk.sh
if [ -n "$desktop_user" ]; then
  home=$(getent passwd "$desktop_user" | cut -d: -f6)
  [ -n "$home" ] || die "no user $desktop_user"
  install -d -o "$desktop_user" "$home/.config/labwc"
  if ! grep -qs modality-kiosk "$home/.config/labwc/autostart"; then
    cat "$here/kiosk/labwc-autostart" >> "$home/.config/labwc/autostart"
    chown "$desktop_user" "$home/.config/labwc/autostart"
  fi
else
  echo "install: no desktop user given: add deploy/kiosk/labwc-autostart to the kiosk user's ~/.config/labwc/autostart by hand" >&2
fi

echo "installed. Check the cart: sudo -u modality modality doctor --data /var/lib/modality"
