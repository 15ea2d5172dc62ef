"""innerchild-audio: YAML guided-meditation scripts to finished MP3 sessions."""

__version__ = "0.1.0"
