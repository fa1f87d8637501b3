"""Video I/O over FFmpeg pipes (the ffmpeg binary that imageio-ffmpeg ships)."""
