"""Regenerate ``reporting.mp4``, the demo lesson's short video (five title cards, 45 s).

The committed file is what ``seed_demo`` uses; run this only to change it. Needs Pillow
(installed with Wagtail), a Noto Sans CJK font and an ``ffmpeg`` with libx264 on the PATH:

    python courses/demo_media/make_demo_video.py [path/to/ffmpeg]

H.264 (baseline, yuv420p) in MP4 with ``faststart`` plays in every phone browser; still
frames at 5 fps keep it under 200 KB.
"""

from __future__ import annotations

import subprocess  # noqa: S404 - runs the ffmpeg named on the command line
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "reporting.mp4"
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SIZE = (640, 360)
SECONDS_PER_CARD = 9
CARDS = [
    ("报告与外出审批", "《社区矫正法》要点 · 第二课"),
    ("一、按规定报告", "按照规定向司法所报告自己的活动情况，按时报到。"),
    ("二、外出须批准", "离开所居住的市、县，应当经社区矫正机构批准。"),
    ("三、变更执行地", "需要变更执行地的，应当提前一个月提出书面申请。"),
    ("有疑问，及时问", "拿不准的事情，先联系您的司法所工作人员。"),
]


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line]


def draw_card(title: str, body: str, path: Path) -> None:
    image = Image.new("RGB", SIZE, "#1f4e79")
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.truetype(FONT, 40)
    body_font = ImageFont.truetype(FONT, 26)
    draw.text((48, 70), title, font=title_font, fill="#ffffff")
    draw.line((48, 132, 160, 132), fill="#f2c14e", width=4)
    for number, line in enumerate(_wrap(draw, body, body_font, SIZE[0] - 96)):
        draw.text((48, 160 + number * 40), line, font=body_font, fill="#e8eef5")
    draw.text(
        (48, 310), "社区矫正学习平台 · 示范课程", font=ImageFont.truetype(FONT, 16), fill="#9fb7cf"
    )
    image.save(path)


def main(ffmpeg: str = "ffmpeg") -> None:
    total = SECONDS_PER_CARD * len(CARDS)
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "cards.txt"
        entries = []
        for number, (title, body) in enumerate(CARDS):
            card = Path(folder) / f"card{number}.png"
            draw_card(title, body, card)
            entries.append(f"file '{card}'\nduration {SECONDS_PER_CARD}\n")
        # The concat demuxer ignores the last duration unless the last file is listed again.
        entries.append(f"file '{Path(folder) / f'card{len(CARDS) - 1}.png'}'\n")
        listing.write_text("".join(entries))
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                ffmpeg,
                "-y",
                "-loglevel",
                "error",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                # A thin bar along the bottom grows with playback, so it visibly plays.
                "-vf",
                f"fps=5,drawbox=x=0:y=ih-6:w='iw*t/{total}':h=6:color=0xf2c14e:t=fill",
                "-t",
                str(total),
                "-c:v",
                "libx264",
                "-profile:v",
                "baseline",
                "-pix_fmt",
                "yuv420p",
                "-tune",
                "stillimage",
                "-crf",
                "30",
                "-movflags",
                "+faststart",
                str(OUTPUT),
            ],
            check=True,
        )


if __name__ == "__main__":
    main(*sys.argv[1:2])
