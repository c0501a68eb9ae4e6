"""Audio edge: decode any file to mono 16 kHz float32, plus the features the stages share."""
from .load import SAMPLE_RATE, Audio, load_audio, from_array, to_pcm16
from .features import frame_db, frame_rms, log_mel, speech_threshold_db, to_db

__all__ = ["SAMPLE_RATE", "Audio", "load_audio", "from_array", "to_pcm16", "frame_db", "frame_rms",
           "log_mel", "speech_threshold_db", "to_db"]
