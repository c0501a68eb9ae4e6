// Console test runner for Mono: runs every [Test] method of every [TestFixture] class in this assembly
// and prints one line per test plus a summary; exit code 0 = all passed.
//   mono EmoAnim.Tests.exe [name-filter] [--json results.json]
//   mono EmoAnim.Tests.exe --bake-e2e URL WAV OUT.json                 (see BakeE2E.cs)
//   mono EmoAnim.Tests.exe --speaker-e2e URL WAV OUT.json [--fast] [--microphone] [--live-clip]   (see SpeakerE2E.cs)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using NUnit.Framework;

namespace EmoAnim.Tests.Mono
{
    public static class TestRunner
    {
        public static int Main(string[] args)
        {
            if (args.Length >= 4 && args[0] == "--speaker-e2e")
                return SpeakerE2E.Run(args[1], args[2], args[3], Array.IndexOf(args, "--fast") < 0, Array.IndexOf(args, "--microphone") >= 0, Array.IndexOf(args, "--live-clip") >= 0);
            if (args.Length >= 4 && args[0] == "--bake-e2e") return BakeE2E.Run(args[1], args[2], args[3]);
            string filter = null, json = null;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--json" && i + 1 < args.Length) json = args[++i];
                else filter = args[i];
            }
            var fixtures = Assembly.GetExecutingAssembly().GetTypes()
                .Where(t => t.GetCustomAttributes(typeof(TestFixtureAttribute), false).Length > 0)
                .OrderBy(t => t.FullName);
            int passed = 0, failed = 0;
            var results = new StringBuilder("[");
            var sw = Stopwatch.StartNew();
            foreach (var type in fixtures)
            {
                foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(x => x.MetadataToken))
                {
                    if (m.GetCustomAttributes(typeof(TestAttribute), false).Length == 0) continue;
                    string name = type.Name + "." + m.Name;
                    if (filter != null && name.IndexOf(filter, StringComparison.OrdinalIgnoreCase) < 0) continue;
                    string error = null;
                    var t0 = sw.Elapsed.TotalMilliseconds;
                    try
                    {
                        var inst = Activator.CreateInstance(type);
                        m.Invoke(inst, null);
                    }
                    catch (TargetInvocationException e) { error = Describe(e.InnerException); }
                    catch (Exception e) { error = Describe(e); }
                    var ms = sw.Elapsed.TotalMilliseconds - t0;
                    if (error == null) { passed++; Console.WriteLine("PASS " + name + " (" + ms.ToString("0") + " ms)"); }
                    else { failed++; Console.WriteLine("FAIL " + name + ": " + error); }
                    if (results.Length > 1) results.Append(',');
                    results.Append("{\"name\":\"").Append(name).Append("\",\"passed\":").Append(error == null ? "true" : "false").Append('}');
                }
            }
            results.Append(']');
            Console.WriteLine(string.Format("{0} passed, {1} failed, {2} total in {3:0.0} s", passed, failed, passed + failed, sw.Elapsed.TotalSeconds));
            if (json != null) File.WriteAllText(json, results.ToString());
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        static string Describe(Exception e)
        {
            if (e is AssertionException) return e.Message + "\n    " + FirstFrame(e);
            return e.GetType().Name + ": " + e.Message + "\n" + e.StackTrace;
        }

        static string FirstFrame(Exception e)
        {
            var st = e.StackTrace ?? "";
            foreach (var line in st.Split('\n')) if (!line.Contains("NUnit.Framework")) return line.Trim();
            return "";
        }
    }
}
