"""Audio edge: decode any file to mono 16 kHz float32, plus the features the stages share."""
from .load import SAMPLE_RATE, Audio, load_audio, from_array
from .features import frame_rms, log_mel

__all__ = ["SAMPLE_RATE", "Audio", "load_audio", "from_array", "frame_rms", "log_mel"]
