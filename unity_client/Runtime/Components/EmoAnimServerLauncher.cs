using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// When Play is pressed: uses a server already answering on host:port (GET /health = 200), or starts
    /// one (the packaged executable, or <c>emoanim serve</c> from a Python install), waits until it is
    /// healthy, and stops it when play ends — only if it started it. Put it next to EmoAnimClient; the
    /// client connects once <see cref="IsReady"/>.
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Server Launcher")]
    [DefaultExecutionOrder(-200)]
    [DisallowMultipleComponent]
    public class EmoAnimServerLauncher : MonoBehaviour
    {
        public string host = "127.0.0.1";
        public int port = 8765;
        [Tooltip("Start a server when none answers.")]
        public bool startIfNotRunning = true;
        [Tooltip("Path to the packaged server (e.g. <project>/EmoAnim/emoanim.exe), relative paths from the project folder. " +
                 "Empty: 'emoanim' from PATH (pip install emoanim).")]
        public string executablePath = "";
        [Tooltip("{host} and {port} are replaced.")]
        public string arguments = "serve --host {host} --port {port}";
        [Tooltip("Seconds to wait for /health (first start loads models).")]
        public float startTimeout = 60f;
        [Tooltip("Stop the server when play ends (only a server this component started).")]
        public bool stopOnExit = true;

        ServerProcess m_Server;
        Task m_Task;
        CancellationTokenSource m_Cts;
        volatile bool m_Ready;
        volatile string m_Error;
        bool m_Reported;

        public bool IsReady { get { return m_Ready; } }
        public string Error { get { return m_Error; } }
        public bool StartedServer { get { return m_Server != null && m_Server.StartedByUs; } }
        public string WebSocketUrl { get { return "ws://" + host + ":" + port + "/"; } }

        /// <summary>Resolve the executable: absolute, relative to the project folder, or a command on PATH.</summary>
        public string ResolveExecutable()
        {
            if (string.IsNullOrEmpty(executablePath)) return "emoanim";
            if (Path.IsPathRooted(executablePath)) return executablePath;
            var projectDir = Path.GetDirectoryName(Application.dataPath);
            var p = Path.GetFullPath(Path.Combine(projectDir, executablePath));
            return File.Exists(p) ? p : executablePath;
        }

        void OnEnable()
        {
            m_Ready = false;
            m_Error = null;
            m_Reported = false;
            m_Server = new ServerProcess
            {
                Host = host, Port = port, Executable = ResolveExecutable(), Arguments = arguments,
                StartTimeout = TimeSpan.FromSeconds(startTimeout),
            };
            m_Server.WorkingDirectory = Path.GetDirectoryName(Application.dataPath);
            m_Cts = new CancellationTokenSource();
            var server = m_Server;
            var ct = m_Cts.Token;
            bool start = startIfNotRunning;
            m_Task = Task.Run(() =>
            {
                try
                {
                    if (start) server.FindOrStart(ct);
                    else
                    {
                        while (!ct.IsCancellationRequested && !server.CheckHealth()) Thread.Sleep(250);
                    }
                    m_Ready = !ct.IsCancellationRequested;
                }
                catch (Exception e) { m_Error = e.Message; }
            });
        }

        void Update()
        {
            if (m_Reported) return;
            if (m_Ready)
            {
                m_Reported = true;
                Debug.Log("[EmoAnim] server ready at " + WebSocketUrl + (StartedServer ? " (started by EmoAnimServerLauncher, pid " + m_Server.ProcessId + ")" : " (already running)"));
            }
            else if (m_Error != null)
            {
                m_Reported = true;
                Debug.LogError("[EmoAnim] " + m_Error, this);
            }
        }

        void OnDisable() { Shutdown(); }
        void OnApplicationQuit() { Shutdown(); }

        /// <summary>Stop waiting, and stop the server if this component started it.</summary>
        public void Shutdown()
        {
            if (m_Cts != null) m_Cts.Cancel();
            try { if (m_Task != null) m_Task.Wait(2000); } catch { }
            if (m_Server != null && stopOnExit && m_Server.StartedByUs)
            {
                Debug.Log("[EmoAnim] stopping the server this launcher started (pid " + m_Server.ProcessId + ")");
                m_Server.Stop();
            }
            m_Server = null;
            m_Ready = false;
        }
    }
}
