using System;
using System.Collections.Generic;
using UnityEngine;
using EmoAnim.Protocol;

namespace EmoAnim.Unity
{
    /// <summary>Anything the drivers can read a pose from (the speaker; your own sources too).</summary>
    public interface IEmoAnimPoseSource
    {
        /// <summary>The pose for this frame (server space), valid when <see cref="PoseWeight"/> &gt; 0.</summary>
        PoseFrame CurrentPose { get; }
        /// <summary>0 = idle (drivers leave the character alone), 1 = fully driven; fades in/out.</summary>
        float PoseWeight { get; }
        /// <summary>Skeleton of the current line (body on), or null.</summary>
        string[] JointNames { get; }
        int[] JointParents { get; }
    }

    /// <summary>An emotion change at a time of the line (seconds from its start).</summary>
    [Serializable]
    public class EmotionKey
    {
        public float time;
        public EmotionSettings emotion = new EmotionSettings();
    }

    /// <summary>
    /// Makes a character talk: streams an AudioClip (or the microphone) to the server, buffers the
    /// frames that come back (jitter buffer, interpolation between frames) and plays the sound with
    /// <c>AudioSource.PlayScheduled</c> on the DSP clock so face and sound stay in sync; the face, eye/head
    /// and body drivers read <see cref="CurrentPose"/> in LateUpdate.
    /// <para>Clips: set the AudioClip's Load Type to "Decompress On Load" (Unity cannot read samples of
    /// streamed clips). CLIP mode (default) gives offline quality; the sound starts once the first
    /// <c>TargetDelay</c> of animation has arrived (typically tens of milliseconds on a local server).</para>
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Speaker")]
    [RequireComponent(typeof(AudioSource))]
    public class EmoAnimSpeaker : MonoBehaviour, IEmoAnimPoseSource
    {
        [Tooltip("Leave empty to use the EmoAnimClient in the scene.")]
        public EmoAnimClient client;

        [Header("Line")]
        public AudioClip clip;
        [Tooltip("Speak 'clip' when the scene starts.")]
        public bool speakOnStart = true;
        [Tooltip("Optional: the words of the clip (better lip-sync through forced alignment; CLIP mode).")]
        [TextArea] public string transcript = "";
        [Tooltip("Language of the line (BCP-47: en, de, fr-FR, pt-BR, ja... or auto); empty = the server's " +
                 "default (English). Mark a span in another language in the transcript as <fr>bonjour</fr>.")]
        public string language = "";
        [Tooltip("Clip: offline quality, the sound starts once the server has processed the line. " +
                 "Live: the clip is streamed like a microphone; the sound starts after about the server's buffer latency.")]
        public Mode clipMode = Mode.Clip;

        [Header("Emotion")]
        public EmotionSettings emotion = new EmotionSettings();
        [Tooltip("Emotion changes during a clip, seconds from its start.")]
        public List<EmotionKey> emotionKeys = new List<EmotionKey>();

        [Header("Animation")]
        [Tooltip("24, 25, 30, 50 or 60.")]
        public int fps = 60;
        public bool face = true, eyes = true, head = true, body = false;
        [Tooltip("Seed of blinks, saccades and gestures: same line + seed = same animation.")]
        public ulong seed;
        [Tooltip("Seconds; positive makes the face lead the sound (compensates audio output latency).")]
        [Range(-0.3f, 0.3f)] public float lipSyncOffset = 0f;
        [Tooltip("Seconds between deciding to play and the first sample (lets the audio thread prepare).")]
        [Range(0.02f, 0.5f)] public float scheduleLead = 0.1f;
        [Tooltip("Seconds to fade the pose in and out around a line.")]
        [Range(0f, 1f)] public float fadeSeconds = 0.15f;

        [Header("Microphone (LIVE mode)")]
        public string microphoneDevice = "";
        [Tooltip("Requested microphone sample rate (8000..48000).")]
        public int microphoneRate = 16000;
        [Tooltip("Seconds of microphone audio per message.")]
        [Range(0.01f, 0.2f)] public float microphoneChunk = 0.02f;
        [Tooltip("Extra seconds the face lags the live voice on top of the server's buffer_latency_s (fewer underruns on a busy CPU).")]
        [Range(0f, 0.5f)] public float liveExtraDelay = 0.05f;

        /// <summary>Raised on the main thread.</summary>
        public event Action<EmoAnimSpeaker> LineStarted;
        public event Action<EmoAnimSpeaker, SessionEnded> LineFinished;
        public event Action<EmoAnimSpeaker, Error> LineError;

        AudioSource m_Audio;
        EmoAnimConnection m_Conn;
        StreamSession m_Session;
        readonly PlaybackSchedule m_Schedule = new PlaybackSchedule();
        readonly DspClock m_Clock = new DspClock();
        readonly PoseFrame m_Pose = new PoseFrame();
        float m_Weight;
        bool m_Active;            // a line is playing or about to
        AudioClip m_PendingClip;  // waiting for the connection / the previous session
        string m_PendingTranscript;
        List<EmotionKey> m_PendingKeys;
        AudioClip m_LineClip;
        // microphone
        AudioClip m_MicClip;
        int m_MicReadPos;
        bool m_MicRequested;
        float[] m_MicBuf = new float[0];
        EmotionSettings m_SentEmotion;   // last emotion sent to a LIVE session (inspector edits are detected)

        public PoseFrame CurrentPose { get { return m_Pose; } }
        public float PoseWeight { get { return m_Weight; } }
        public string[] JointNames { get { return m_Session != null ? m_Session.JointNames : null; } }
        public int[] JointParents { get { return m_Session != null ? m_Session.JointParents : null; } }
        public StreamSession Session { get { return m_Session; } }
        public bool IsSpeaking { get { return m_Active; } }
        public bool IsListening { get { return m_MicClip != null; } }
        /// <summary>Playback position of the current line in seconds (animation time).</summary>
        public double LineTime { get; private set; }

        void Awake() { m_Audio = GetComponent<AudioSource>(); }

        void Start()
        {
            // 'clip' empty: speak the AudioSource's own clip
            var c = clip != null ? clip : (m_Audio != null ? m_Audio.clip : null);
            if (speakOnStart && c != null) Speak(c, transcript);
        }

        EmoAnimConnection Connection
        {
            get
            {
                if (m_Conn == null || m_Conn.State == ConnectionState.Closed)
                {
                    var c = client != null ? client : EmoAnimClient.Instance;
                    if (c == null)
                    {
                        Debug.LogError("[EmoAnim] no EmoAnimClient in the scene: add one (GameObject > EmoAnim > Client) or set 'client'.", this);
                        enabled = false;
                        return null;
                    }
                    client = c;
                    m_Conn = c.CreateConnection();
                }
                return m_Conn;
            }
        }

        /// <summary>Speak a clip (cancels the current line). Emotion: <see cref="emotion"/> plus optional keys.</summary>
        public void Speak(AudioClip audioClip, string words = null, List<EmotionKey> keys = null)
        {
            if (audioClip == null) throw new ArgumentNullException("audioClip");
            StopMicrophone();
            CancelLine();
            m_PendingClip = audioClip;
            m_PendingTranscript = words ?? "";
            m_PendingKeys = keys ?? emotionKeys;
            var c = Connection; // make sure a connection exists
            if (c == null) m_PendingClip = null;
        }

        /// <summary>Stream the microphone (LIVE mode); the face follows with the server's buffer latency.</summary>
        public void StartMicrophone()
        {
            CancelLine();
            m_MicRequested = true;
            var c = Connection;
            if (c == null) m_MicRequested = false;
        }

        public void StopMicrophone()
        {
            m_MicRequested = false;
            if (m_MicClip == null) return;
            Microphone.End(string.IsNullOrEmpty(microphoneDevice) ? null : microphoneDevice);
            m_MicClip = null;
            if (m_Session != null && m_Session.State == SessionState.Active && m_Conn != null) m_Conn.Protocol.EndAudio();
        }

        /// <summary>Change the emotion. LIVE: from now on. CLIP: for the next line (a clip is sent whole).</summary>
        public void SetEmotion(EmotionSettings e)
        {
            emotion = e.Clone();
            SendEmotionIfLive();
        }

        void SendEmotionIfLive()
        {
            if (m_Session == null || m_Session.State != SessionState.Active || m_Conn == null || m_Session.Options.Mode != Mode.Live) return;
            m_Conn.Protocol.SendEmotion(emotion.ToProto(), null, emotion.transition);
            m_Conn.Flush();
            m_SentEmotion = emotion.Clone();
        }

        public void SetEmotion(EmotionCategory category, float intensity)
        {
            var e = emotion.Clone();
            e.category = category; e.intensity = intensity; e.useVad = false;
            SetEmotion(e);
        }

        /// <summary>Stop the current line (sound and animation; the server is told to cancel).</summary>
        public void CancelLine()
        {
            m_PendingClip = null;
            if (m_Session != null && !m_Session.IsOver && m_Conn != null) { m_Conn.Protocol.Cancel(); m_Conn.Flush(); }
            if (m_Audio != null && m_LineClip != null) m_Audio.Stop();
            m_Active = false;
            m_LineClip = null;
            m_Schedule.Reset();
        }

        SessionOptions MakeOptions(Mode mode, int sampleRate, string words)
        {
            return new SessionOptions
            {
                SampleRate = sampleRate, Channels = 1, Encoding = AudioEncoding.Pcm16, Fps = fps, Mode = mode,
                Face = face, Eyes = eyes, Head = head, Body = body, ApplyEmotion = true, Seed = seed,
                AuthToken = client != null ? client.authToken : "", Transcript = mode == Mode.Clip ? (words ?? "") : "",
                Language = language ?? "",
                ClientName = "Unity " + Application.unityVersion + " / " + name, Emotion = emotion.ToProto(),
            };
        }

        void BeginClip()
        {
            var audioClip = m_PendingClip;
            m_PendingClip = null;
            var data = new float[audioClip.samples * audioClip.channels];
            if (!audioClip.GetData(data, 0))
            {
                Debug.LogError("[EmoAnim] cannot read samples of '" + audioClip.name + "': set its Load Type to Decompress On Load.", audioClip);
                return;
            }
            var mono = AudioConvert.Downmix(data, audioClip.channels);
            var p = m_Conn.Protocol;
            m_Session = p.StartSession(MakeOptions(clipMode, audioClip.frequency, m_PendingTranscript));
            m_SentEmotion = emotion.Clone();   // sent as the initial emotion
            HookSession(m_Session);
            if (m_PendingKeys != null)
                foreach (var k in m_PendingKeys)
                    if (k != null && k.emotion != null) p.SendEmotion(k.emotion.ToProto(), Math.Max(0, k.time), k.emotion.transition);
            int chunk = AudioConvert.ChunkSamples(audioClip.frequency, 1.0);
            for (int i = 0; i < mono.Length; i += chunk) p.SendAudio(mono, i, Math.Min(chunk, mono.Length - i));
            p.EndAudio();
            m_Conn.Flush();
            m_LineClip = audioClip;
            m_Active = true;
            m_Schedule.Reset();
            m_Schedule.Offset = lipSyncOffset;
        }

        void BeginMicrophone()
        {
            m_MicRequested = false;
            string dev = string.IsNullOrEmpty(microphoneDevice) ? null : microphoneDevice;
            m_MicClip = Microphone.Start(dev, true, 10, microphoneRate);
            if (m_MicClip == null) { Debug.LogError("[EmoAnim] could not start the microphone '" + microphoneDevice + "'", this); return; }
            m_MicReadPos = 0;
            m_Session = m_Conn.Protocol.StartSession(MakeOptions(Mode.Live, m_MicClip.frequency, null));
            m_SentEmotion = emotion.Clone();   // sent as the initial emotion
            HookSession(m_Session);
            m_Conn.Flush();
            m_LineClip = null;
            m_Active = true;
            m_Schedule.Reset();
            m_Schedule.Offset = lipSyncOffset;
        }

        void HookSession(StreamSession s)
        {
            s.Started += ss => { var h = LineStarted; if (h != null) h(this); };
            s.ErrorReceived += (ss, e) =>
            {
                Debug.LogWarning("[EmoAnim] " + name + ": " + e, this);
                var h = LineError; if (h != null) h(this, e);
            };
            s.Ended += ss => { var h = LineFinished; if (h != null) h(this, ss.EndInfo); };
        }

        void PumpMicrophone()
        {
            if (m_MicClip == null || m_Session == null || m_Session.State != SessionState.Active) return;
            string dev = string.IsNullOrEmpty(microphoneDevice) ? null : microphoneDevice;
            int pos = Microphone.GetPosition(dev);
            int total = m_MicClip.samples;
            int avail = (pos - m_MicReadPos + total) % total;
            int chunk = AudioConvert.ChunkSamples(m_MicClip.frequency, microphoneChunk);
            while (avail >= chunk)
            {
                int ch = m_MicClip.channels;
                if (m_MicBuf.Length != chunk * ch) m_MicBuf = new float[chunk * ch];
                m_MicClip.GetData(m_MicBuf, m_MicReadPos); // wraps around the looping clip
                var mono = AudioConvert.Downmix(m_MicBuf, ch);
                m_Conn.Protocol.SendAudio(mono, 0, mono.Length);
                m_MicReadPos = (m_MicReadPos + chunk) % total;
                avail -= chunk;
            }
            m_Conn.Flush();
        }

        void Update()
        {
            var conn = m_Conn;
            if (conn != null && conn.State == ConnectionState.Connected && conn.Protocol.CanStart)
            {
                if (m_PendingClip != null) BeginClip();
                else if (m_MicRequested) BeginMicrophone();
            }
            PumpMicrophone();
            // Inspector edits of 'emotion' while listening (LIVE) take effect at once.
            if (m_Session != null && m_Session.Options.Mode == Mode.Live && m_Session.State == SessionState.Active
                && (m_SentEmotion == null || !m_SentEmotion.SameAs(emotion)))
                SendEmotionIfLive();

            var s = m_Session;
            double dsp = m_Clock.Update(AudioSettings.dspTime, Time.unscaledTimeAsDouble);
            bool driving = false;
            if (m_Active && s != null && s.Info != null)
            {
                if (!m_Schedule.IsScheduled && s.Buffer.IsReady(0))
                {
                    if (m_LineClip != null)
                    {
                        double start = m_Schedule.Schedule(AudioSettings.dspTime, scheduleLead);
                        m_Audio.clip = m_LineClip;
                        m_Audio.PlayScheduled(start);
                    }
                    else
                    {
                        // microphone: the voice is heard live; the face follows buffer_latency_s behind it
                        m_Schedule.Schedule(AudioSettings.dspTime, 0);
                        m_Schedule.DspStart -= s.AudioSecondsSent - Math.Max(s.Info.BufferLatencyS, (float)s.Buffer.TargetDelay) - liveExtraDelay;
                    }
                }
                if (m_Schedule.IsScheduled)
                {
                    double t = m_Schedule.AnimationTime(dsp);
                    LineTime = t;
                    if (t >= 0 && s.Buffer.Sample(t, m_Pose)) driving = true;
                    if (s.Buffer.IsFinished(t) && (m_LineClip == null || !m_Audio.isPlaying)) m_Active = false;
                }
                if (s.IsOver && s.FramesReceived == 0) m_Active = false;
            }
            float target = driving && m_Active ? 1f : 0f;
            float step = fadeSeconds > 0 ? Time.deltaTime / fadeSeconds : 1f;
            m_Weight = Mathf.MoveTowards(m_Weight, target, step);
        }

        void OnDisable()
        {
            StopMicrophone();
            CancelLine();
            m_Weight = 0;
            if (client != null && m_Conn != null) client.Release(m_Conn);
            m_Conn = null;
            m_Session = null;
        }
    }
}
