"""Emotion controls: categories/intensity, VAD, mixtures, keyframed timelines, auto (prosody).

One internal representation (:class:`EmotionState`: a VAD point + 8 category weights); see
docs/emotion.md for the conversions, the timeline schema and how auto mode performs.
"""
from .space import (ANCHORS, CATEGORIES, CATEGORY_INDEX, NEUTRAL, EmotionState, from_category,
                    from_mixture, from_vad, vad_to_weights, weights_to_vad)
from .timeline import (DEFAULT_TRANSITION_S, EmotionTimeline, Keyframe, load_timeline,
                       parse_emotion, parse_vad, timeline_from_json)
from .stage import EVENT_COLUMNS, EmotionControls, apply_emotion, controls_from, emotion_at

__all__ = ["ANCHORS", "CATEGORIES", "CATEGORY_INDEX", "NEUTRAL", "EmotionState", "from_category",
           "from_mixture", "from_vad", "vad_to_weights", "weights_to_vad", "DEFAULT_TRANSITION_S",
           "EmotionTimeline", "Keyframe", "load_timeline", "parse_emotion", "parse_vad",
           "timeline_from_json", "EVENT_COLUMNS", "EmotionControls", "apply_emotion",
           "controls_from", "emotion_at"]
