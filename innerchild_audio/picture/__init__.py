"""Pictures of a session's timeline, planned or rendered (PNG or SVG).

    draw_timeline(timeline, title, "plan.png")          from a plan (estimated speech)
    picture_of_render(render_result, "out.svg")       after a render, with the level
    picture_of_session("output/x.mp3", "x.png")         a session on disk, from its files
"""

from innerchild_audio.picture.draw import DEFAULT_WIDTH_PX, Picture, draw_timeline, picture_size
from innerchild_audio.picture.layers import LevelCurve, bed_level_db
from innerchild_audio.picture.session import (
    level_curve,
    picture_of_render,
    picture_of_session,
    read_vtt,
)

__all__ = [
    "DEFAULT_WIDTH_PX", "LevelCurve", "Picture", "bed_level_db", "draw_timeline", "level_curve",
    "picture_of_render", "picture_of_session", "picture_size", "read_vtt",
]
