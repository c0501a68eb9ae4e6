using UnityEditor;
using UnityEngine;
using EmoAnim.Unity;

namespace EmoAnim.Editor
{
    /// <summary>Speaker inspector: the usual fields, plus in Play mode buttons to speak / stop /
    /// listen and change the emotion, and live statistics of the current line.</summary>
    [CustomEditor(typeof(EmoAnimSpeaker))]
    public class EmoAnimSpeakerEditor : UnityEditor.Editor
    {
        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var speaker = (EmoAnimSpeaker)target;
            if (!EditorApplication.isPlaying)
            {
                EditorGUILayout.HelpBox("Press Play: the clip is spoken on start (or use the buttons that appear here).", MessageType.None);
                return;
            }
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Play mode", EditorStyles.boldLabel);
            EditorGUILayout.BeginHorizontal();
            GUI.enabled = speaker.clip != null;
            if (GUILayout.Button("Speak clip")) speaker.Speak(speaker.clip, speaker.transcript);
            GUI.enabled = speaker.IsSpeaking;
            if (GUILayout.Button("Stop")) speaker.CancelLine();
            GUI.enabled = true;
            if (GUILayout.Button(speaker.IsListening ? "Stop microphone" : "Microphone"))
            {
                if (speaker.IsListening) speaker.StopMicrophone(); else speaker.StartMicrophone();
            }
            EditorGUILayout.EndHorizontal();
            if (GUILayout.Button("Apply emotion now (LIVE) / to the next line (CLIP)")) speaker.SetEmotion(speaker.emotion);

            var s = speaker.Session;
            if (s != null)
            {
                EditorGUILayout.LabelField("Session", (s.Id ?? "(starting)") + "  " + s.State);
                EditorGUILayout.LabelField("Frames", s.FramesReceived + " received, " + s.Buffer.Count + " buffered");
                EditorGUILayout.LabelField("Buffer", s.Buffer.Underruns + " underruns, " + s.Buffer.LateFrames + " late");
                EditorGUILayout.LabelField("Line time", speaker.LineTime.ToString("0.000") + " s, weight " + speaker.PoseWeight.ToString("0.00"));
                if (s.LastError != null) EditorGUILayout.HelpBox(s.LastError.ToString(), MessageType.Warning);
            }
            Repaint();
        }
    }
}
