"""Speech: text to audio clips through one small engine interface."""
