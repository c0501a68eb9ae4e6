// Plain C# (no UnityEngine): ARKit-52 curve names and the blendshape-name matcher.
using System;
using System.Collections.Generic;
using System.Text;

namespace EmoAnim
{
    /// <summary>The 52 ARKit blendshapes in Apple's order (the server's canonical face space).</summary>
    public static class ArkitNames
    {
        public const int Count = 52;

        /// <summary>Apple's camelCase names in Apple's order (Live Link Face CSV column order).</summary>
        public static readonly string[] Names =
        {
            "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
            "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
            "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
            "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight",
            "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
            "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
            "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
            "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
            "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
            "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
            "noseSneerRight", "tongueOut",
        };

        static readonly Dictionary<string, int> s_Lookup = BuildLookup();

        static Dictionary<string, int> BuildLookup()
        {
            var d = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < Names.Length; i++)
            {
                string n = Names[i];
                Add(d, Normalize(n), i);
                Add(d, Normalize(Pascal(n)), i);
                Add(d, Normalize(LeftRight(n)), i);
            }
            return d;
        }

        static void Add(Dictionary<string, int> d, string key, int index)
        {
            int existing;
            if (d.TryGetValue(key, out existing) && existing != index)
                throw new InvalidOperationException("ARKit alias collision: " + key);
            d[key] = index;
        }

        /// <summary>Index of a canonical (exact camelCase) name, or -1.</summary>
        public static int IndexOf(string canonicalName)
        {
            return Array.IndexOf(Names, canonicalName);
        }

        /// <summary><c>jawOpen</c> -> <c>JawOpen</c> (Live Link Face / Unreal / many Unity rigs).</summary>
        public static string Pascal(string name)
        {
            if (string.IsNullOrEmpty(name)) return name;
            return char.ToUpperInvariant(name[0]) + name.Substring(1);
        }

        /// <summary><c>eyeBlinkLeft</c> -> <c>eyeBlink_L</c>.</summary>
        public static string LeftRight(string name)
        {
            if (name.EndsWith("Left", StringComparison.Ordinal)) return name.Substring(0, name.Length - 4) + "_L";
            if (name.EndsWith("Right", StringComparison.Ordinal)) return name.Substring(0, name.Length - 5) + "_R";
            return name;
        }

        /// <summary>
        /// Any blendshape name -> index into <see cref="Names"/>, or -1 when it is not an ARKit shape.
        /// Accepted: camelCase, PascalCase, <c>_L/_R</c> and <c>_Left/_Right</c> suffixes, snake/kebab
        /// case, any case; prefixes up to the last '.' (<c>blendShape1.jawOpen</c>,
        /// <c>Wolf3D_Head.jawOpen</c>) and CC-style numbered prefixes (<c>A25_Jaw_Open</c>) are stripped.
        /// </summary>
        public static int Match(string blendshapeName)
        {
            if (string.IsNullOrEmpty(blendshapeName)) return -1;
            string s = blendshapeName.Trim();
            int dot = s.LastIndexOf('.');
            if (dot >= 0) s = s.Substring(dot + 1);
            s = StripNumberedPrefix(s);
            int idx;
            return s_Lookup.TryGetValue(Normalize(s), out idx) ? idx : -1;
        }

        /// <summary>Lower-case and drop separators ('_', '-', ' ', ':').</summary>
        public static string Normalize(string s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (c == '_' || c == '-' || c == ' ' || c == ':') continue;
                sb.Append(char.ToLowerInvariant(c));
            }
            return sb.ToString();
        }

        // "A25_Jaw_Open" (Character Creator / iClone ARKit export) -> "Jaw_Open"
        static string StripNumberedPrefix(string s)
        {
            if (s.Length > 4 && (s[0] == 'A' || s[0] == 'a') && char.IsDigit(s[1]) && char.IsDigit(s[2]) && s[3] == '_')
                return s.Substring(4);
            return s;
        }
    }
}
