using System;
using System.Collections.Generic;
using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// Connection hub: where the server is, its auth token, and the WebSocket connections of the
    /// speakers in the scene (one per speaker: the protocol runs one session per connection at a
    /// time, so NPCs talk concurrently on their own connections). Polls every connection on the main
    /// thread each frame (all events fire there) and closes them cleanly when play mode ends.
    /// Put one in the scene (the speakers find it) — with an <see cref="EmoAnimServerLauncher"/> on the
    /// same GameObject if Unity should start the server.
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Client")]
    [DefaultExecutionOrder(-100)]
    [DisallowMultipleComponent]
    public class EmoAnimClient : MonoBehaviour
    {
        [Tooltip("WebSocket URL of the server (emoanim serve). Taken from the launcher when one is present.")]
        public string serverUrl = "ws://127.0.0.1:8765/";
        [Tooltip("Token when the server was started with --token / EMOANIM_TOKEN.")]
        public string authToken = "";
        [Tooltip("Log connection changes and server errors to the Console.")]
        public bool verbose = true;

        readonly List<EmoAnimConnection> m_Connections = new List<EmoAnimConnection>();
        EmoAnimServerLauncher m_Launcher;
        static EmoAnimClient s_Instance;

        /// <summary>The client in the scene (found on first use).</summary>
        public static EmoAnimClient Instance
        {
            get
            {
                if (s_Instance == null) s_Instance = FindClient();
                return s_Instance;
            }
        }

        /// <summary>The scene's client: <c>FindObjectOfType</c> is obsolete from Unity 2023.1, where
        /// <c>FindFirstObjectByType</c> (2021.3.18+, 2022.2+) replaces it.</summary>
        public static T FindInScene<T>() where T : UnityEngine.Object
        {
#if UNITY_2023_1_OR_NEWER
            return FindFirstObjectByType<T>();
#else
            return FindObjectOfType<T>();
#endif
        }

        static EmoAnimClient FindClient() { return FindInScene<EmoAnimClient>(); }

        /// <summary>Raised (main thread) for server errors not tied to a session and for connection losses.</summary>
        public event Action<string> Problem;

        /// <summary>False while the launcher is still starting the server.</summary>
        public bool ServerReady { get { return m_Launcher == null || !m_Launcher.enabled || m_Launcher.IsReady; } }

        public string EffectiveUrl { get { return m_Launcher != null && m_Launcher.enabled ? m_Launcher.WebSocketUrl : serverUrl; } }

        void Awake()
        {
            if (s_Instance == null) s_Instance = this;
            m_Launcher = GetComponent<EmoAnimServerLauncher>();
        }

        /// <summary>
        /// A new connection (connects in the background once the server is ready, reconnects with backoff).
        /// Dispose it with <see cref="Release"/>.
        /// </summary>
        public EmoAnimConnection CreateConnection()
        {
            var c = new EmoAnimConnection(EffectiveUrl);
            c.Connected += () => { if (verbose) Debug.Log("[EmoAnim] connected to " + c.Url); };
            c.Disconnected += reason => { if (verbose) Debug.LogWarning("[EmoAnim] disconnected from " + c.Url + ": " + reason); Raise("disconnected: " + reason); };
            c.Protocol.ConnectionError += e => { Debug.LogWarning("[EmoAnim] server: " + e); Raise(e.ToString()); };
            m_Connections.Add(c);
            if (ServerReady) c.Start();
            return c;
        }

        public void Release(EmoAnimConnection c)
        {
            if (c == null) return;
            m_Connections.Remove(c);
            c.Dispose();
        }

        void Raise(string s) { var h = Problem; if (h != null) h(s); }

        void Update()
        {
            bool ready = ServerReady;
            for (int i = 0; i < m_Connections.Count; i++)
            {
                var c = m_Connections[i];
                if (ready) c.Start(); // no-op once started
                c.Poll();
            }
        }

        void OnDisable() { CloseAll(); }
        void OnApplicationQuit() { CloseAll(); }

        void OnDestroy()
        {
            CloseAll();
            if (s_Instance == this) s_Instance = null;
        }

        void CloseAll()
        {
            foreach (var c in m_Connections) c.Dispose();
            m_Connections.Clear();
        }
    }
}
