"""Emotion controls: categories/intensity, VAD, mixtures, keyframed timelines, auto (prosody).

One internal representation (:class:`EmotionState`: a VAD point + 8 category weights); see
docs/emotion.md for the conversions, the timeline schema and how auto mode performs.
"""
# names load on first use (PEP 562): every `emoanim` call imports emotion.cli for its flags, and
# space/timeline/stage pull numpy in (issue 14's start-up bar)
_FROM = {"space": ("ANCHORS", "CATEGORIES", "CATEGORY_INDEX", "NEUTRAL", "EmotionState", "from_category",
                   "from_mixture", "from_vad", "vad_to_weights", "weights_to_vad"),
         "timeline": ("DEFAULT_TRANSITION_S", "EmotionTimeline", "Keyframe", "load_timeline", "parse_emotion",
                      "parse_vad", "timeline_from_json"),
         "stage": ("EVENT_COLUMNS", "EmotionControls", "apply_emotion", "controls_from", "emotion_at")}
_MODULE = {name: mod for mod, names in _FROM.items() for name in names}


def __getattr__(name: str):
    if name in _MODULE:
        import importlib

        return getattr(importlib.import_module(f".{_MODULE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ANCHORS", "CATEGORIES", "CATEGORY_INDEX", "NEUTRAL", "EmotionState", "from_category",
           "from_mixture", "from_vad", "vad_to_weights", "weights_to_vad", "DEFAULT_TRANSITION_S",
           "EmotionTimeline", "Keyframe", "load_timeline", "parse_emotion", "parse_vad",
           "timeline_from_json", "EVENT_COLUMNS", "EmotionControls", "apply_emotion",
           "controls_from", "emotion_at"]
