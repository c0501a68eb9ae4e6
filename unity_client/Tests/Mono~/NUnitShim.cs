// The tiny subset of NUnit the package's tests use, so the same test files run in Unity's Test Runner
// (real NUnit) and under Mono here (no NUnit on this machine: /usr/lib/mono has none). Semantics follow
// https://docs.nunit.org/articles/nunit/writing-tests/assertions/classic-assertions.html
using System;

namespace NUnit.Framework
{
    [AttributeUsage(AttributeTargets.Class)] public sealed class TestFixtureAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Method)] public sealed class TestAttribute : Attribute { }

    public class AssertionException : Exception { public AssertionException(string m) : base(m) { } }

    public static class Assert
    {
        static void Fail(string what, string message)
        {
            throw new AssertionException(string.IsNullOrEmpty(message) ? what : what + " — " + message);
        }

        public static void Fail(string message) { throw new AssertionException(message); }
        public static void IsTrue(bool c, string message = null) { if (!c) Fail("expected true", message); }
        public static void IsFalse(bool c, string message = null) { if (c) Fail("expected false", message); }
        public static void IsNull(object o, string message = null) { if (o != null) Fail("expected null, got " + o, message); }
        public static void IsNotNull(object o, string message = null) { if (o == null) Fail("expected not null", message); }

        public static void AreEqual(object expected, object actual, string message = null)
        {
            if (!Equals(expected, actual)) Fail("expected <" + expected + "> but was <" + actual + ">", message);
        }

        public static void AreEqual(long expected, long actual, string message = null)
        {
            if (expected != actual) Fail("expected <" + expected + "> but was <" + actual + ">", message);
        }

        public static void AreEqual(double expected, double actual, double delta, string message = null)
        {
            if (double.IsNaN(expected) ? !double.IsNaN(actual) : Math.Abs(expected - actual) > delta)
                Fail("expected <" + expected.ToString("R") + "> +/- " + delta + " but was <" + actual.ToString("R") + ">", message);
        }

        public static void AreNotEqual(object notExpected, object actual, string message = null)
        {
            if (Equals(notExpected, actual)) Fail("expected not <" + notExpected + ">", message);
        }

        public static void Greater(double a, double b, string message = null) { if (!(a > b)) Fail("expected " + a + " > " + b, message); }
        public static void Less(double a, double b, string message = null) { if (!(a < b)) Fail("expected " + a + " < " + b, message); }
        public static void GreaterOrEqual(double a, double b, string message = null) { if (!(a >= b)) Fail("expected " + a + " >= " + b, message); }
        public static void LessOrEqual(double a, double b, string message = null) { if (!(a <= b)) Fail("expected " + a + " <= " + b, message); }

        public static T Throws<T>(TestDelegate code, string message = null) where T : Exception
        {
            try { code(); }
            catch (T e) { return e; }
            catch (Exception e) { Fail("expected " + typeof(T).Name + " but got " + e.GetType().Name + ": " + e.Message, message); }
            Fail("expected " + typeof(T).Name + " but nothing was thrown", message);
            return null;
        }
    }

    public delegate void TestDelegate();

    public static class CollectionAssert
    {
        public static void AreEqual(System.Collections.IEnumerable expected, System.Collections.IEnumerable actual, string message = null)
        {
            var e = expected.GetEnumerator(); var a = actual.GetEnumerator();
            int i = 0;
            while (true)
            {
                bool me = e.MoveNext(), ma = a.MoveNext();
                if (me != ma) Assert.Fail("collections differ in length at index " + i + (message != null ? " — " + message : ""));
                if (!me) return;
                if (!Equals(e.Current, a.Current)) Assert.Fail("collections differ at index " + i + ": expected <" + e.Current + "> but was <" + a.Current + ">" + (message != null ? " — " + message : ""));
                i++;
            }
        }
    }
}
