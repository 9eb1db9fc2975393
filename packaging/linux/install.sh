#!/bin/sh
# Installs @DISPLAY_NAME@ @VERSION@ for the current user, no root needed:
#   the program folder   -> ~/.local/lib/@APP_NAME@
#   launchers            -> ~/.local/bin/@APP_NAME@ (command line) and ~/.local/bin/@APP_NAME@-gui (window)
#   menu entry           -> ~/.local/share/applications/@APP_ID@.desktop
#   icons                -> ~/.local/share/icons/hicolor/<size>/apps/@ICON_NAME@.png (and .svg)
# Run it from the unpacked archive:  ./install.sh        Remove everything again:  ./install.sh --uninstall
# Your libraries (~/.local/share/@APP_NAME@) are never touched by either.
set -eu

APP_NAME="@APP_NAME@"
APP_ID="@APP_ID@"
ICON_NAME="@ICON_NAME@"
HERE=$(cd "$(dirname "$0")" && pwd -P)
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN_DIR="$HOME/.local/bin"
PREFIX="$HOME/.local/lib/$APP_NAME"
DESKTOP_FILE="$DATA_HOME/applications/$APP_ID.desktop"
ICON_ROOT="$DATA_HOME/icons/hicolor"

refresh_caches() {
    # Optional: desktops that cache menus and icons pick the change up sooner. Absent tools are fine.
    command -v update-desktop-database >/dev/null 2>&1 &&
        update-desktop-database -q "$DATA_HOME/applications" 2>/dev/null || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t -f "$ICON_ROOT" 2>/dev/null || true
}

uninstall() {
    rm -rf "$PREFIX"
    rm -f "$BIN_DIR/$APP_NAME" "$BIN_DIR/$APP_NAME-gui" "$DESKTOP_FILE"
    rm -f "$ICON_ROOT"/*/apps/"$ICON_NAME".png "$ICON_ROOT"/*/apps/"$ICON_NAME".svg
    refresh_caches
    echo "$APP_NAME removed (your libraries in $DATA_HOME/$APP_NAME are kept)."
}

install_app() {
    if [ ! -x "$HERE/$APP_NAME" ] || [ ! -x "$HERE/$APP_NAME-gui" ]; then
        echo "install.sh: $HERE does not hold the $APP_NAME program; run it from the unpacked archive" >&2
        exit 1
    fi
    # Copy next to the old version, then swap, so a failed copy never leaves half a program.
    if [ "$HERE" != "$PREFIX" ]; then
        mkdir -p "$(dirname "$PREFIX")"
        rm -rf "$PREFIX.new"
        cp -a "$HERE" "$PREFIX.new" # -a keeps the hard link between the two programs
        rm -rf "$PREFIX"
        mv "$PREFIX.new" "$PREFIX"
    fi

    mkdir -p "$BIN_DIR"
    for exe in "$APP_NAME" "$APP_NAME-gui"; do
        rm -f "$BIN_DIR/$exe"
        printf '#!/bin/sh\nexec "%s/%s" "$@"\n' "$PREFIX" "$exe" >"$BIN_DIR/$exe"
        chmod 755 "$BIN_DIR/$exe"
    done

    for icon in "$PREFIX"/icons/hicolor/*/apps/*; do
        [ -f "$icon" ] || continue
        size=$(basename "$(dirname "$(dirname "$icon")")")
        mkdir -p "$ICON_ROOT/$size/apps"
        cp "$icon" "$ICON_ROOT/$size/apps/"
    done

    # The menu entry points at the installed window by absolute path, so it works without PATH.
    mkdir -p "$(dirname "$DESKTOP_FILE")"
    sed -e "s|^Exec=$APP_NAME-gui|Exec=\"$PREFIX/$APP_NAME-gui\"|" -e "s|^TryExec=.*|TryExec=$PREFIX/$APP_NAME-gui|" \
        "$PREFIX/$APP_ID.desktop" >"$DESKTOP_FILE"
    chmod 644 "$DESKTOP_FILE"
    refresh_caches

    echo "Installed $APP_NAME in $PREFIX"
    echo "  window:       $APP_NAME-gui (or find it in your applications menu)"
    echo "  command line: $APP_NAME --help"
    case ":$PATH:" in
    *":$BIN_DIR:"*) ;;
    *) echo "  note: $BIN_DIR is not on your PATH; add it, or run $BIN_DIR/$APP_NAME" ;;
    esac
}

case "${1:-}" in
"") install_app ;;
--uninstall) uninstall ;;
-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
    echo "install.sh: unknown option '$1' (use --uninstall or --help)" >&2
    exit 2
    ;;
esac
