"""Make the Windows .ico and macOS .icns from the app's PNG icons (no Pillow: both formats hold PNGs)."""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "qa_app" / "resources" / "icons"
BASENAME = "qa-app"
ICO_SIZES = (16, 32, 48, 64, 128, 256)
# .icns entry types that hold PNG data (macOS 10.7+), by pixel size.
ICNS_TYPES = {
    16: b"icp4",
    32: b"icp5",
    64: b"icp6",
    128: b"ic07",
    256: b"ic08",
    512: b"ic09",
    1024: b"ic10",
}


def png_size(data: bytes) -> int:
    """Return the width of a square PNG; raise ValueError if it is not a square PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    if width != height:
        raise ValueError(f"icon is {width}x{height}, not square")
    return width


def render_svg(svg: Path, size: int) -> bytes | None:
    """Return the SVG drawn at size x size as PNG bytes, or None when QtSvg is not available."""
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice
        from PySide6.QtGui import QGuiApplication, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer
    except ImportError:
        return None
    app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    del app  # keep it alive until here; Qt owns it afterwards
    return bytes(data.data())


def load_pngs(folder: Path = ICONS) -> dict[int, bytes]:
    """Return {size: PNG bytes} from folder/qa-app-<N>.png, plus 512 and 1024 drawn from the SVG.

    Raises FileNotFoundError naming the folder when it holds no icon PNGs.
    """
    pngs: dict[int, bytes] = {}
    for path in sorted(folder.glob(f"{BASENAME}-*.png")):
        data = path.read_bytes()
        pngs[png_size(data)] = data
    if not pngs:
        raise FileNotFoundError(f"{folder}: no {BASENAME}-<size>.png icons to convert")
    svg = folder / f"{BASENAME}.svg"
    if svg.is_file():
        for size in (512, 1024):  # the Retina sizes of the .icns
            if size not in pngs and (data := render_svg(svg, size)) is not None:
                pngs[size] = data
    return pngs


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Return a Windows .ico holding PNG-compressed images (Windows Vista and later read these)."""
    sizes = [s for s in sorted(pngs) if s in ICO_SIZES]
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return struct.pack("<HHH", 0, 1, len(sizes)) + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """Return a macOS .icns whose entries are the PNG images."""
    body = b"".join(
        ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for size in sorted(pngs)
        if size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_platform_icons(out_dir: Path, folder: Path = ICONS) -> dict[str, Path]:
    """Write qa-app.ico, qa-app.icns (and the 512 px PNG) into out_dir; return them by extension."""
    pngs = load_pngs(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = {"ico": out_dir / f"{BASENAME}.ico", "icns": out_dir / f"{BASENAME}.icns"}
    made["ico"].write_bytes(ico_bytes(pngs))
    made["icns"].write_bytes(icns_bytes(pngs))
    if 512 in pngs:
        made["png512"] = out_dir / f"{BASENAME}-512.png"
        made["png512"].write_bytes(pngs[512])
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--icons", type=Path, default=ICONS, help="folder of qa-app-<N>.png")
    args = parser.parse_args()
    for path in write_platform_icons(args.out, args.icons).values():
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
