using System;
using UnityEngine;
using EmoAnim.Protocol;

namespace EmoAnim.Unity
{
    /// <summary>The 8 emotion categories the server understands.</summary>
    public enum EmotionCategory { Neutral, Happy, Sad, Angry, Fearful, Disgusted, Surprised, Contempt }

    /// <summary>An emotion as edited in the Inspector: a category with intensity, or a VAD point.</summary>
    [Serializable]
    public class EmotionSettings
    {
        public EmotionCategory category = EmotionCategory.Neutral;
        [Range(0f, 1f)] public float intensity = 0.7f;
        [Tooltip("Use the valence/arousal/dominance point instead of the category.")]
        public bool useVad;
        [Range(-1f, 1f)] public float valence;
        [Range(-1f, 1f)] public float arousal;
        [Range(-1f, 1f)] public float dominance;
        [Tooltip("Seconds to blend from the previous emotion, centred on the change time (0 = server default, 0.5 s; server range 0.05..10).")]
        [Range(0f, 3f)] public float transition = 0.5f;

        public EmotionSettings() { }
        public EmotionSettings(EmotionCategory c, float i) { category = c; intensity = i; }

        public static string CategoryName(EmotionCategory c) { return c.ToString().ToLowerInvariant(); }

        public Emotion ToProto()
        {
            var e = new Emotion(CategoryName(category), Mathf.Clamp01(intensity));
            if (useVad) { e.Valence = valence; e.Arousal = arousal; e.Dominance = dominance; }
            return e;
        }

        public EmotionSettings Clone() { return (EmotionSettings)MemberwiseClone(); }

        public bool SameAs(EmotionSettings o)
        {
            return o != null && o.category == category && o.intensity == intensity && o.useVad == useVad &&
                   o.valence == valence && o.arousal == arousal && o.dominance == dominance && o.transition == transition;
        }
    }
}
