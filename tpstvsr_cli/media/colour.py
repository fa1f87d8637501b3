"""Colour metadata: which YUV<->RGB matrix and range to use when decoding and encoding, and the tags to write.

A source's tags are used as they are; what is untagged is guessed the way players guess (BT.709 for HD,
BT.601 for SD, full range for the yuvj formats), and the output is then tagged with what was used, so a
player shows the output as we saw the input.
"""

from dataclasses import dataclass

from .probe import VideoInfo

# ffmpeg's -colorspace names -> the scale filter's in/out_color_matrix names
_SCALE_MATRIX = {
    "bt709": "bt709",
    "bt470bg": "bt470bg",
    "smpte170m": "smpte170m",
    "fcc": "fcc",
    "smpte240m": "smpte240m",
    "bt2020nc": "bt2020",
    "bt2020c": "bt2020",
}
# Primaries and transfer that go with a matrix when only the matrix is tagged.
_COMPANIONS = {
    "bt709": ("bt709", "bt709"),
    "smpte170m": ("smpte170m", "smpte170m"),
    "bt470bg": ("bt470bg", "smpte170m"),
    "bt2020nc": ("bt2020", "bt709"),
}


@dataclass(frozen=True)
class ColourSpec:
    matrix: str  # ffmpeg -colorspace name
    range: str  # "tv" (limited) or "pc" (full)
    primaries: str | None = None
    transfer: str | None = None

    @property
    def scale_matrix(self) -> str:
        return _SCALE_MATRIX.get(self.matrix, "bt709")

    def decode_filter(self) -> dict:
        """Keyword arguments of the `scale` filter that turns this YUV into RGB."""
        return {
            "in_color_matrix": self.scale_matrix,
            "in_range": self.range,
            "flags": "bicubic+accurate_rnd+full_chroma_int",
        }

    def encode_filter(self) -> dict:
        """Keyword arguments of the `scale` filter that turns RGB into this YUV."""
        return {
            "out_color_matrix": self.scale_matrix,
            "out_range": self.range,
            "flags": "bicubic+accurate_rnd+full_chroma_int",
        }

    def setparams(self) -> dict:
        """Keyword arguments of the `setparams` filter: ffmpeg >= 7 takes the encoder's colour tags from the
        frames, so they are set on the frames (the -colorspace etc. output options alone get overridden)."""
        out = {"colorspace": self.matrix, "range": self.range}
        if self.primaries:
            out["color_primaries"] = self.primaries
        if self.transfer:
            out["color_trc"] = self.transfer
        return out

    def tags(self) -> dict:
        """Output options that write the metadata into the stream and container."""
        out = {"colorspace": self.matrix, "color_range": self.range}
        if self.primaries:
            out["color_primaries"] = self.primaries
        if self.transfer:
            out["color_trc"] = self.transfer
        return out


SRGB_FRAMES = ColourSpec("bt709", "tv", "bt709", "bt709")  # what frame folders (PNG/JPG) become


def source_colour(info: VideoInfo) -> ColourSpec:
    """The colour a source was encoded with: its tags, completed by the usual guesses."""
    matrix = info.color_matrix if info.color_matrix in _SCALE_MATRIX else None
    if matrix is None:
        matrix = "bt709" if info.height >= 720 or info.width >= 1280 else "smpte170m"
    rng = info.color_range or ("pc" if info.pix_fmt.startswith("yuvj") else "tv")
    # Untagged primaries/transfer get the matrix's companions: the 4x output is HD-sized, and a player
    # would otherwise assume BT.709 for an SD source's BT.601 colours.
    prim, trc = _COMPANIONS.get(matrix, (None, None))
    return ColourSpec(matrix, rng, info.color_primaries or prim, info.color_transfer or trc)
