// Plain C# (no UnityEngine): joint-name mapping and the body retarget math.
using System;
using System.Collections.Generic;

namespace EmoAnim
{
    /// <summary>
    /// Maps skeleton joint names from common conventions to Unity humanoid bone names (the names of
    /// <c>UnityEngine.HumanBodyBones</c>): Mixamo (<c>mixamorig:LeftArm</c>), Blender/Rigify-style
    /// (<c>upper_arm.L</c>, as in the server's ReActIdle-derived skeleton), BVH/CMU (<c>LeftUpLeg</c>),
    /// VRM / Unity humanoid names (<c>LeftUpperArm</c>) and Ready Player Me (Mixamo names without prefix).
    /// </summary>
    public static class HumanoidNames
    {
        static readonly Dictionary<string, string> s_Map = Build();

        static Dictionary<string, string> Build()
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            // canonical humanoid name, then aliases (normalised: lower case, no separators)
            string[][] table =
            {
                new[] { "Hips", "hips", "pelvis", "root", "hip" },
                new[] { "Spine", "spine", "spine01", "abdomen", "lowerback" },
                new[] { "Chest", "chest", "spine1", "spine001", "spine02", "upperback" },
                new[] { "UpperChest", "upperchest", "spine2", "spine002", "spine03" },
                new[] { "Neck", "neck", "neck1", "neck01" },
                new[] { "Head", "head", "face" },
                new[] { "LeftShoulder", "leftshoulder", "shoulderl", "lshoulder", "leftcollar", "lcollar", "claviclel", "leftclavicle" },
                new[] { "LeftUpperArm", "leftupperarm", "leftarm", "upperarml", "larm", "lshldr", "lupperarm", "uparml" },
                new[] { "LeftLowerArm", "leftlowerarm", "leftforearm", "forearml", "lforearm", "llowerarm", "lowerarml" },
                new[] { "LeftHand", "lefthand", "handl", "lhand" },
                new[] { "RightShoulder", "rightshoulder", "shoulderr", "rshoulder", "rightcollar", "rcollar", "clavicler", "rightclavicle" },
                new[] { "RightUpperArm", "rightupperarm", "rightarm", "upperarmr", "rarm", "rshldr", "rupperarm", "uparmr" },
                new[] { "RightLowerArm", "rightlowerarm", "rightforearm", "forearmr", "rforearm", "rlowerarm", "lowerarmr" },
                new[] { "RightHand", "righthand", "handr", "rhand" },
                new[] { "LeftUpperLeg", "leftupperleg", "leftupleg", "thighl", "lthigh", "leftthigh", "lupleg", "upperlegl" },
                new[] { "LeftLowerLeg", "leftlowerleg", "leftleg", "shinl", "lshin", "leftshin", "lleg", "calfl", "lowerlegl" },
                new[] { "LeftFoot", "leftfoot", "footl", "lfoot" },
                new[] { "LeftToes", "lefttoes", "lefttoebase", "toel", "ltoe", "toesl" },
                new[] { "RightUpperLeg", "rightupperleg", "rightupleg", "thighr", "rthigh", "rightthigh", "rupleg", "upperlegr" },
                new[] { "RightLowerLeg", "rightlowerleg", "rightleg", "shinr", "rshin", "rightshin", "rleg", "calfr", "lowerlegr" },
                new[] { "RightFoot", "rightfoot", "footr", "rfoot" },
                new[] { "RightToes", "righttoes", "righttoebase", "toer", "rtoe", "toesr" },
                new[] { "LeftEye", "lefteye", "eyel", "leye" },
                new[] { "RightEye", "righteye", "eyer", "reye" },
                new[] { "Jaw", "jaw" },
            };
            foreach (var row in table)
                for (int i = 1; i < row.Length; i++) d[row[i]] = row[0];
            // fingers: Unity names (LeftIndexProximal...) and Mixamo names (LeftHandIndex1...)
            string[] fingers = { "Thumb", "Index", "Middle", "Ring", "Little" };
            string[] segments = { "Proximal", "Intermediate", "Distal" };
            foreach (var side in new[] { "Left", "Right" })
                foreach (var f in fingers)
                    for (int k = 0; k < 3; k++)
                    {
                        string canonical = side + f + segments[k];
                        d[canonical.ToLowerInvariant()] = canonical;
                        d[(side + "Hand" + (f == "Little" ? "Pinky" : f) + (k + 1)).ToLowerInvariant()] = canonical;
                    }
            return d;
        }

        /// <summary>Normalise: strip a namespace prefix (<c>mixamorig:</c>, <c>Armature|</c>), lower case, drop separators and dots.</summary>
        public static string Normalize(string name)
        {
            if (name == null) return "";
            int c = Math.Max(name.LastIndexOf(':'), name.LastIndexOf('|'));
            if (c >= 0) name = name.Substring(c + 1);
            var sb = new System.Text.StringBuilder(name.Length);
            foreach (char ch in name)
            {
                if (ch == '_' || ch == '-' || ch == ' ' || ch == '.') continue;
                sb.Append(char.ToLowerInvariant(ch));
            }
            return sb.ToString();
        }

        /// <summary>Unity humanoid bone name (a HumanBodyBones member name) for a joint name, or null.</summary>
        public static string ToHumanoid(string jointName)
        {
            string h;
            return s_Map.TryGetValue(Normalize(jointName), out h) ? h : null;
        }
    }

    /// <summary>
    /// Retargets server skeleton poses onto a character whose bones may have any local axes.
    /// <para>The server's rest pose is its skeleton with identity local rotations (a T-pose, Y-up,
    /// facing +Z). For every frame each joint's global rotation <c>G</c> (server space, product of the
    /// local rotations from the root) is the rotation of that joint away from the rest pose in model
    /// space. It is converted to Unity space (<see cref="CoordinateConversion.RotationToUnity"/>) and
    /// applied on top of the target bone's rest rotation measured in the character's space:
    /// <c>boneWorld = character * G_unity * restInCharacter</c>, where
    /// <c>restInCharacter = inverse(character) * boneWorldAtRest</c> is captured while the character
    /// stands in its T-pose (Mixamo, Ready Player Me and VRM characters import in T-pose).</para>
    /// Joints the character lacks are skipped: their rotation still reaches children through G.
    /// </summary>
    public sealed class BodyRetarget
    {
        public readonly int[] Parents;
        readonly Quat[] m_Global;
        readonly Quat[] m_Unity;

        public BodyRetarget(int[] parents)
        {
            for (int i = 0; i < parents.Length; i++)
                if (parents[i] >= i) throw new ArgumentException("skeleton joint " + i + ": parent must come before child");
            Parents = parents;
            m_Global = new Quat[parents.Length];
            m_Unity = new Quat[parents.Length];
        }

        /// <summary>Global rotations in Unity space for one frame of local rotations (server space).</summary>
        public Quat[] GlobalUnity(Quat[] local)
        {
            if (local.Length != Parents.Length) throw new ArgumentException("frame has " + local.Length + " joints, skeleton " + Parents.Length);
            CoordinateConversion.LocalToGlobal(Parents, local, m_Global);
            for (int i = 0; i < m_Global.Length; i++) m_Unity[i] = CoordinateConversion.RotationToUnity(m_Global[i]);
            return m_Unity;
        }

        /// <summary>World rotation for a target bone: <c>character * gUnity * restInCharacter</c>.</summary>
        public static Quat BoneWorld(Quat character, Quat gUnity, Quat restInCharacter)
        {
            return (character * gUnity * restInCharacter).Normalized();
        }
    }
}
