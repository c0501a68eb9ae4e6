// Plain C# (no UnityEngine): find or start the local EmoAnim server, wait for /health, stop it.
using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace EmoAnim
{
    /// <summary>
    /// Finds a running server (GET http://host:port/health answers 200) or starts one, waits until it
    /// is ready, and stops it again if (and only if) it started it. Used by EmoAnimServerLauncher when
    /// Play is pressed and by the integration test under Mono.
    /// </summary>
    public sealed class ServerProcess : IDisposable
    {
        public string Host = "127.0.0.1";
        public int Port = 8765;
        /// <summary>Executable: the packaged <c>emoanim</c> binary, or e.g. <c>python</c>.</summary>
        public string Executable = "emoanim";
        /// <summary>Arguments; <c>{host}</c> and <c>{port}</c> are replaced.</summary>
        public string Arguments = "serve --host {host} --port {port}";
        public string WorkingDirectory;
        public TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
        public TimeSpan HealthPollInterval = TimeSpan.FromMilliseconds(250);

        Process m_Process;
        readonly StringBuilder m_Log = new StringBuilder();

        /// <summary>True when this object started the process (and will stop it).</summary>
        public bool StartedByUs { get { return m_Process != null; } }
        public int ProcessId { get { return m_Process != null ? m_Process.Id : 0; } }
        public bool HasExited { get { try { return m_Process == null || m_Process.HasExited; } catch { return true; } } }
        public string LastHealth { get; private set; }

        public string Log { get { lock (m_Log) return m_Log.ToString(); } }
        public event Action<string> OutputLine;

        public string HealthUrl { get { return "http://" + Host + ":" + Port + "/health"; } }
        public string WebSocketUrl { get { return "ws://" + Host + ":" + Port + "/"; } }

        /// <summary>GET /health: 200 = ready. Never throws.</summary>
        public bool CheckHealth(int timeoutMs = 1000)
        {
            try
            {
                var req = (HttpWebRequest)WebRequest.Create(HealthUrl);
                req.Timeout = timeoutMs;
                req.ReadWriteTimeout = timeoutMs;
                req.Proxy = null; // loopback: never through a proxy
                using (var resp = (HttpWebResponse)req.GetResponse())
                using (var sr = new StreamReader(resp.GetResponseStream()))
                {
                    LastHealth = sr.ReadToEnd();
                    return resp.StatusCode == HttpStatusCode.OK;
                }
            }
            catch (WebException e)
            {
                var r = e.Response as HttpWebResponse;
                if (r != null)
                {
                    try { using (var sr = new StreamReader(r.GetResponseStream())) LastHealth = sr.ReadToEnd(); } catch { }
                    r.Close();
                }
                else LastHealth = e.Status.ToString();
                return false;
            }
            catch (Exception e)
            {
                LastHealth = e.Message;
                return false;
            }
        }

        /// <summary>True when something accepts TCP connections on host:port.</summary>
        public bool PortInUse()
        {
            try
            {
                using (var c = new TcpClient())
                {
                    var ar = c.BeginConnect(Host, Port, null, null);
                    bool ok = ar.AsyncWaitHandle.WaitOne(300);
                    if (ok) c.EndConnect(ar);
                    return ok && c.Connected;
                }
            }
            catch { return false; }
        }

        /// <summary>
        /// Blocking (call it from a worker thread): returns once the server is healthy.
        /// Uses a running server if there is one; otherwise starts <see cref="Executable"/>.
        /// Throws TimeoutException / InvalidOperationException with the server's output on failure.
        /// </summary>
        public void FindOrStart(CancellationToken ct = default(CancellationToken))
        {
            if (CheckHealth()) return;
            if (PortInUse())
            {
                // Something is there (a server still loading models, or another program): wait for health.
                if (WaitHealthy(ct)) return;
                throw new TimeoutException("port " + Port + " is in use but " + HealthUrl + " never answered 200 (last: " + LastHealth + ")");
            }
            Start();
            if (!WaitHealthy(ct))
            {
                string log = Log;
                Stop();
                throw new TimeoutException("EmoAnim server did not become healthy within " + StartTimeout.TotalSeconds + " s (" + HealthUrl + "; last: " + LastHealth + "). Output:\n" + log);
            }
        }

        public void Start()
        {
            var psi = new ProcessStartInfo
            {
                FileName = Executable,
                Arguments = Arguments.Replace("{host}", Host).Replace("{port}", Port.ToString()),
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (!string.IsNullOrEmpty(WorkingDirectory)) psi.WorkingDirectory = WorkingDirectory;
            var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
            DataReceivedEventHandler h = (s, e) =>
            {
                if (e.Data == null) return;
                lock (m_Log) { if (m_Log.Length < 200000) m_Log.AppendLine(e.Data); }
                var o = OutputLine; if (o != null) o(e.Data);
            };
            p.OutputDataReceived += h;
            p.ErrorDataReceived += h;
            try { p.Start(); }
            catch (Exception e)
            {
                throw new InvalidOperationException("could not start the EmoAnim server '" + psi.FileName + " " + psi.Arguments + "': " + e.Message +
                    " (set the executable path on EmoAnimServerLauncher, or install it: pip install emoanim)", e);
            }
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            m_Process = p;
        }

        bool WaitHealthy(CancellationToken ct)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < StartTimeout)
            {
                if (ct.IsCancellationRequested) return false;
                if (CheckHealth()) return true;
                if (m_Process != null && HasExited) return false;
                Thread.Sleep(HealthPollInterval);
            }
            return false;
        }

        /// <summary>Stop the server if we started it (graceful signal where possible, then kill).</summary>
        public void Stop(int graceMs = 3000)
        {
            var p = m_Process;
            m_Process = null;
            if (p == null) return;
            try
            {
                if (!p.HasExited)
                {
                    bool graceful = false;
                    if (Environment.OSVersion.Platform == PlatformID.Unix || Environment.OSVersion.Platform == PlatformID.MacOSX)
                    {
                        try
                        {
                            // SIGTERM lets the server close sessions cleanly (SHUTTING_DOWN, close 1001).
                            using (var k = Process.Start(new ProcessStartInfo("kill", "-TERM " + p.Id) { UseShellExecute = false, CreateNoWindow = true }))
                                k.WaitForExit(1000);
                            graceful = p.WaitForExit(graceMs);
                        }
                        catch { }
                    }
                    if (!graceful && !p.HasExited) { p.Kill(); p.WaitForExit(graceMs); }
                }
            }
            catch (InvalidOperationException) { }
            finally { p.Dispose(); }
        }

        public void Dispose() { Stop(); }
    }
}
