using System.Collections.Generic;
using UnityEngine;
using EmoAnim.Unity;

namespace EmoAnim.Samples
{
    /// <summary>
    /// Script example: speak a line whose emotion changes during it (cutscene-style), and react when it
    /// ends. Attach next to an EmoAnimSpeaker; call <see cref="Play"/> (or tick 'playOnStart').
    /// </summary>
    [RequireComponent(typeof(EmoAnimSpeaker))]
    public class EmotionTimelineExample : MonoBehaviour
    {
        public AudioClip line;
        public bool playOnStart = true;
        [TextArea] public string transcript = "";

        void Start()
        {
            var speaker = GetComponent<EmoAnimSpeaker>();
            speaker.LineFinished += (s, ended) => Debug.Log("[EmoAnim sample] '" + line.name + "' done: " + (ended != null ? ended.Reason : "?"));
            if (playOnStart && line != null) Play();
        }

        public void Play()
        {
            var keys = new List<EmotionKey>
            {
                new EmotionKey { time = 0f, emotion = new EmotionSettings(EmotionCategory.Neutral, 0.5f) },
                new EmotionKey { time = 1.0f, emotion = new EmotionSettings(EmotionCategory.Surprised, 0.8f) },
                new EmotionKey { time = 2.5f, emotion = new EmotionSettings(EmotionCategory.Happy, 0.9f) { transition = 0.6f } },
            };
            GetComponent<EmoAnimSpeaker>().Speak(line, transcript, keys);
        }
    }
}
