"""Scripts: YAML in, a validated typed model out (or every problem, located)."""

from innerchild_audio.script.loader import load_script, slug_from_name

__all__ = ["load_script", "slug_from_name"]
