using System.Collections.Generic;
using UnityEngine;
using EmoAnim.Protocol;
using EmoAnim.Unity;

namespace EmoAnim.Samples
{
    /// <summary>
    /// Sample scene setup: put this on an empty GameObject, drag your character (Ready Player Me, VRoid
    /// with ARKit blendshapes, Mixamo...) into 'character', add a few voice lines to 'clips' and press
    /// Play. It adds whatever EmoAnim components are missing (client + server launcher, speaker, face,
    /// eye/head and body drivers) and shows a small panel: speak a line, change the emotion, use the
    /// microphone, see connection and buffer statistics.
    /// </summary>
    public class TalkingCharacterBootstrap : MonoBehaviour
    {
        public GameObject character;
        public List<AudioClip> clips = new List<AudioClip>();
        [Tooltip("Start the server from Unity (else run `emoanim serve` yourself).")]
        public bool launchServer = true;
        [Tooltip("Path to the packaged server executable (empty: 'emoanim' on PATH).")]
        public string serverExecutable = "";
        public bool bodyGestures = true;

        EmoAnimSpeaker m_Speaker;
        EmoAnimClient m_Client;
        EmotionCategory m_Emotion = EmotionCategory.Neutral;
        float m_Intensity = 0.7f;
        string m_Status = "";

        void Awake()
        {
            m_Client = EmoAnimClient.FindInScene<EmoAnimClient>();
            if (m_Client == null)
            {
                var go = new GameObject("EmoAnim");
                if (launchServer)
                {
                    var launcher = go.AddComponent<EmoAnimServerLauncher>();
                    launcher.executablePath = serverExecutable;
                }
                m_Client = go.AddComponent<EmoAnimClient>();
            }
            if (character == null) { Debug.LogError("[EmoAnim sample] assign 'character'", this); enabled = false; return; }

            m_Speaker = character.GetComponent<EmoAnimSpeaker>();
            if (m_Speaker == null)
            {
                if (character.GetComponent<AudioSource>() == null) character.AddComponent<AudioSource>();
                m_Speaker = character.AddComponent<EmoAnimSpeaker>();
                m_Speaker.speakOnStart = false;
            }
            m_Speaker.client = m_Client;
            var animator = character.GetComponentInChildren<Animator>();
            bool humanoid = animator != null && animator.isHuman;
            m_Speaker.body = bodyGestures && humanoid;
            if (character.GetComponent<EmoAnimFaceDriver>() == null) character.AddComponent<EmoAnimFaceDriver>().source = m_Speaker;
            if (character.GetComponent<EmoAnimEyeHeadDriver>() == null) character.AddComponent<EmoAnimEyeHeadDriver>().source = m_Speaker;
            if (m_Speaker.body && character.GetComponent<EmoAnimBodyDriver>() == null) character.AddComponent<EmoAnimBodyDriver>().source = m_Speaker;
            m_Speaker.LineFinished += (s, ended) => m_Status = "line finished: " + (ended != null ? ended.Reason + ", " + ended.FramesSent + " frames" : "?");
            m_Speaker.LineError += (s, e) => m_Status = "error: " + e;
        }

        void OnGUI()
        {
            GUILayout.BeginArea(new Rect(10, 10, 320, 520));
            GUILayout.Label("EmoAnim — " + (m_Client != null && m_Client.ServerReady ? "server ready" : "waiting for the server..."));
            foreach (var clip in clips)
                if (clip != null && GUILayout.Button("Speak '" + clip.name + "'"))
                    m_Speaker.Speak(clip);

            GUILayout.Label("Emotion: " + m_Emotion + " " + m_Intensity.ToString("0.00"));
            m_Intensity = GUILayout.HorizontalSlider(m_Intensity, 0f, 1f);
            GUILayout.BeginHorizontal();
            int i = 0;
            foreach (EmotionCategory c in System.Enum.GetValues(typeof(EmotionCategory)))
            {
                if (GUILayout.Button(c.ToString())) { m_Emotion = c; m_Speaker.SetEmotion(c, m_Intensity); }
                if (++i % 4 == 0) { GUILayout.EndHorizontal(); GUILayout.BeginHorizontal(); }
            }
            GUILayout.EndHorizontal();

            if (!m_Speaker.IsListening && GUILayout.Button("Microphone: start (LIVE mode)")) m_Speaker.StartMicrophone();
            if (m_Speaker.IsListening && GUILayout.Button("Microphone: stop")) m_Speaker.StopMicrophone();
            if (m_Speaker.IsSpeaking && GUILayout.Button("Stop line")) m_Speaker.CancelLine();

            var s = m_Speaker.Session;
            if (s != null)
            {
                GUILayout.Label("session " + s.Id + " (" + s.State + ", " + (s.Options.Mode == Mode.Live ? "LIVE" : "CLIP") + ")");
                GUILayout.Label("frames " + s.FramesReceived + ", buffered " + s.Buffer.Count + ", underruns " + s.Buffer.Underruns +
                                ", late " + s.Buffer.LateFrames);
                GUILayout.Label("line time " + m_Speaker.LineTime.ToString("0.00") + " s, pose weight " + m_Speaker.PoseWeight.ToString("0.00"));
            }
            GUILayout.Label(m_Status);
            GUILayout.EndArea();
        }
    }
}
