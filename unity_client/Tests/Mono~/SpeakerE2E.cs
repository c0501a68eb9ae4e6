// End-to-end run of the Unity components (EmoAnimClient + EmoAnimSpeaker + EmoAnimFaceDriver) on the
// stub engine against a real server: the "press Play and the character talks" path without Unity.
//   mono EmoAnim.Tests.exe --speaker-e2e ws://127.0.0.1:PORT/ line.wav out.json
// The loop plays the engine: real clock for Time.unscaledTimeAsDouble, a DSP clock that advances in
// 1024-sample steps at 48 kHz (like Unity's), messages Update/LateUpdate in Unity's order, and the
// AudioSource stops when the scheduled clip has played out.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using EmoAnim.Protocol;
using EmoAnim.Unity;
using UnityEngine;

namespace EmoAnim.Tests.Mono
{
    public static class SpeakerE2E
    {
        static string F(double d) { return d.ToString("R", CultureInfo.InvariantCulture); }

        public static int Run(string url, string wavPath, string outPath, bool realtime, bool microphone = false, bool liveClip = false)
        {
            var wav = WavData.Load(wavPath);
            var monoSrc = AudioConvert.Downmix(wav.Samples, wav.Channels);
            Microphone.StubSource = monoSrc;
            var clip = AudioClip.Create("line", wav.Samples.Length / wav.Channels, wav.Channels, wav.SampleRate, false);
            clip.SetData(wav.Samples, 0);

            var hub = new GameObject("EmoAnim");
            var client = hub.AddComponent<EmoAnimClient>();
            client.serverUrl = url;

            var character = new GameObject("Character");
            var audio = character.AddComponent<AudioSource>();
            var speaker = character.AddComponent<EmoAnimSpeaker>();
            speaker.client = client;
            speaker.speakOnStart = false;
            speaker.seed = 0;
            var headGo = new GameObject("Wolf3D_Head");
            headGo.transform.parent = character.transform;
            var head = headGo.AddComponent<SkinnedMeshRenderer>();
            head.sharedMesh = new Mesh();
            head.sharedMesh.StubBlendShapeNames.AddRange(ArkitNames.Names);
            var face = character.AddComponent<EmoAnimFaceDriver>();
            face.source = speaker;
            face.StubInvoke("OnEnable");

            var frames = new List<Frame>();
            bool started = false, finished = false;
            SessionEnded ended = null;
            Error error = null;
            speaker.LineStarted += s =>
            {
                started = true;
                s.Session.WireFrameReceived += (ss, f) => frames.Add(f);
            };
            speaker.LineFinished += (s, e) => { finished = true; ended = e; };
            speaker.LineError += (s, e) => error = e;
            speaker.microphoneRate = wav.SampleRate;
            if (liveClip) speaker.clipMode = Mode.Live;
            speaker.StubInvoke("Start");
            bool emotionSent = false, micStopped = false;
            double micStart = double.NaN;
            if (microphone) speaker.StartMicrophone(); else speaker.Speak(clip);

            var samples = new List<string>();   // (anim time, weight, jaw weight on the mesh)
            var sw = Stopwatch.StartNew();
            const double dspStep = 1024.0 / 48000.0;
            double scheduledAt = double.NaN, sim = 0;
            int frameCount = 0;
            double maxWeight = 0;
            long lastUnderruns = 0;
            var underrunAt = new List<string>();
            int jaw = Array.IndexOf(ArkitNames.Names, "jawOpen");
            while (true)
            {
                // engine clock: real time, or simulated at 60 fps when not realtime (frames come faster than that locally)
                sim = realtime ? sw.Elapsed.TotalSeconds : sim + 1.0 / 60.0;
                System.Threading.Thread.Sleep(realtime ? 10 : 1);  // ~60-100 engine frames per second
                UnityEngine.Time.StubTime = sim;
                UnityEngine.Time.StubDeltaTime = 1f / 60f;
                AudioSettings.StubDspTime = Math.Floor(sim / dspStep) * dspStep;
                if (audio.isPlaying && !double.IsNaN(audio.StubScheduledAt) && AudioSettings.StubDspTime > audio.StubScheduledAt + clip.length)
                    audio.Stop();
                if (microphone)
                {
                    if (double.IsNaN(micStart) && speaker.IsListening) micStart = sim;
                    double micT = sim - micStart;
                    if (!emotionSent && micT > 1.0) { speaker.SetEmotion(EmotionCategory.Happy, 0.9f); emotionSent = true; }
                    if (!micStopped && micT > monoSrc.Length / (double)wav.SampleRate + 0.1) { speaker.StopMicrophone(); micStopped = true; }
                }
                client.StubInvoke("Update");
                speaker.StubInvoke("Update");
                face.StubInvoke("LateUpdate");
                frameCount++;
                if (double.IsNaN(scheduledAt) && !double.IsNaN(audio.StubScheduledAt)) scheduledAt = audio.StubScheduledAt;
                maxWeight = Math.Max(maxWeight, speaker.PoseWeight);
                var sess = speaker.Session;
                if (sess != null && sess.Buffer.Underruns > lastUnderruns)
                {
                    lastUnderruns = sess.Buffer.Underruns;
                    underrunAt.Add("[" + F(sim - micStart) + "," + F(speaker.LineTime) + "," + F(sess.Buffer.NewestTime) + "]");
                }
                if (speaker.PoseWeight >= 1f)
                    samples.Add("[" + F(speaker.LineTime) + "," + F(head.GetBlendShapeWeight(jaw)) + "," + F(sim - micStart) + "]");
                if (finished && !speaker.IsSpeaking && speaker.PoseWeight <= 0f) break;
                if (sw.Elapsed.TotalSeconds > 120) { Console.Error.WriteLine("timeout"); break; }
            }
            var s2 = speaker.Session;
            var sb = new StringBuilder("{");
            sb.Append("\"started\":").Append(started ? "true" : "false");
            sb.Append(",\"finished\":").Append(finished ? "true" : "false");
            sb.Append(",\"reason\":\"").Append(ended != null ? ended.Reason : "").Append('"');
            if (ended != null) sb.Append(",\"ended\":").Append(JsonOut.Of(ended));
            if (s2 != null && s2.Info != null) sb.Append(",\"session\":").Append(JsonOut.Of(s2.Info));
            sb.Append(",\"error\":").Append(error != null ? "\"" + error.CodeName + "\"" : "null");
            sb.Append(",\"scheduled_at\":").Append(double.IsNaN(scheduledAt) ? "null" : F(scheduledAt));
            sb.Append(",\"engine_frames\":").Append(frameCount);
            sb.Append(",\"max_weight\":").Append(F(maxWeight));
            sb.Append(",\"underruns\":").Append(s2 != null ? s2.Buffer.Underruns : -1);
            sb.Append(",\"underrun_at\":[").Append(string.Join(",", underrunAt.ToArray())).Append(']');
            sb.Append(",\"late\":").Append(s2 != null ? s2.Buffer.LateFrames : -1);
            sb.Append(",\"fps\":").Append(s2 != null && s2.Info != null ? s2.Info.Fps : 0);
            sb.Append(",\"jaw_index\":").Append(s2 != null && s2.Info != null ? Array.IndexOf(s2.Info.CurveNames, "jawOpen") : -1);
            sb.Append(",\"frames\":[");
            for (int i = 0; i < frames.Count; i++) { if (i > 0) sb.Append(','); sb.Append(JsonOut.Of(frames[i])); }
            sb.Append("],\"samples\":[").Append(string.Join(",", samples.ToArray())).Append("]");
            sb.Append(",\"log\":[");
            lock (UnityEngine.Debug.StubLog)
                for (int i = 0; i < UnityEngine.Debug.StubLog.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    sb.Append('"').Append(UnityEngine.Debug.StubLog[i].Replace("\\", "\\\\").Replace("\"", "'").Replace("\n", " ")).Append('"');
                }
            sb.Append("]}");
            File.WriteAllText(outPath, sb.ToString());
            client.StubInvoke("OnDisable");
            Console.WriteLine("frames " + frames.Count + " finished " + finished + " samples " + samples.Count);
            return finished ? 0 : 1;
        }
    }
}
