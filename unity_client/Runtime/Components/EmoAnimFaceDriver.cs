using System.Collections.Generic;
using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// Applies the ARKit curves of a pose source to the blendshapes of one or more
    /// SkinnedMeshRenderers (head, teeth, tongue, eyelashes... e.g. Ready Player Me's Wolf3D_Head,
    /// Wolf3D_Teeth). Blendshapes are matched by name (ARKit camelCase, PascalCase, _L/_R, any case,
    /// prefixes like "blendShape1." stripped) plus an optional <see cref="EmoAnimBlendshapeMap"/>.
    /// Weights are the 0..1 curves times <see cref="weightScale"/> (Unity blendshapes use 0..100).
    /// Runs in LateUpdate, after the Animator, and blends with whatever the Animator wrote by the
    /// source's fade weight.
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Face Driver")]
    [DefaultExecutionOrder(100)]
    public class EmoAnimFaceDriver : MonoBehaviour
    {
        [Tooltip("An EmoAnimSpeaker (or any IEmoAnimPoseSource). Empty: the one on this GameObject or its parents.")]
        public MonoBehaviour source;
        [Tooltip("Meshes with ARKit-style blendshapes. Empty: every SkinnedMeshRenderer below this GameObject that has a matching blendshape.")]
        public List<SkinnedMeshRenderer> renderers = new List<SkinnedMeshRenderer>();
        public EmoAnimBlendshapeMap mapping;
        [Tooltip("Unity blendshape weights go 0..100.")]
        public float weightScale = 100f;
        [Range(0f, 2f)] public float intensity = 1f;
        [Tooltip("Let eye blendshapes (blink, look) through; turn off if another system drives the eyes.")]
        public bool driveEyeShapes = true;

        class Target
        {
            public SkinnedMeshRenderer Renderer;
            public List<BlendshapeBinding> Bindings;
            public float[] Weights;
            public bool[] Touched;
            // What the weights are without us: re-read every frame when something else (an Animator,
            // a blink script) writes them, else the value from before our first write.
            public float[] Base;
            public float[] LastWritten;
            public bool[] Written;
        }

        readonly List<Target> m_Targets = new List<Target>();
        IEmoAnimPoseSource m_Source;
        readonly float[] m_Curves = new float[ArkitNames.Count];

        /// <summary>How many blendshapes are driven (after <see cref="Rebind"/>).</summary>
        public int BoundShapeCount { get; private set; }

        void OnEnable() { Rebind(); }

        /// <summary>Re-resolve the source and the blendshape bindings (call after changing renderers/mapping).</summary>
        public void Rebind()
        {
            m_Source = source as IEmoAnimPoseSource;
            if (m_Source == null) m_Source = GetComponentInParent<EmoAnimSpeaker>();
            m_Targets.Clear();
            BoundShapeCount = 0;
            var list = renderers != null && renderers.Count > 0 ? renderers : new List<SkinnedMeshRenderer>(GetComponentsInChildren<SkinnedMeshRenderer>());
            var warnings = new List<string>();
            foreach (var r in list)
            {
                if (r == null || r.sharedMesh == null) continue;
                var mesh = r.sharedMesh;
                var names = new string[mesh.blendShapeCount];
                for (int i = 0; i < names.Length; i++) names[i] = mesh.GetBlendShapeName(i);
                var b = BlendshapeBinder.Bind(names, mapping != null ? mapping.entries : null, mapping == null || mapping.autoMatchArkitNames, warnings);
                if (b.Count == 0) continue;
                m_Targets.Add(new Target
                {
                    Renderer = r, Bindings = b, Weights = new float[names.Length], Touched = new bool[names.Length],
                    Base = new float[names.Length], LastWritten = new float[names.Length], Written = new bool[names.Length],
                });
                BoundShapeCount += b.Count;
            }
            foreach (var w in warnings) Debug.LogWarning("[EmoAnim] " + w, this);
            if (BoundShapeCount == 0)
                Debug.LogWarning("[EmoAnim] " + name + ": no ARKit blendshapes found on the renderers; add an EmoAnimBlendshapeMap.", this);
        }

        void LateUpdate()
        {
            if (m_Source == null) return;
            float w = m_Source.PoseWeight;
            if (w <= 0f) { RestoreBase(); return; }
            ApplyPose(m_Source.CurrentPose, w);
        }

        /// <summary>Give the blendshapes back (idle): weights nobody else wrote return to their value before we drove them.</summary>
        public void RestoreBase()
        {
            foreach (var t in m_Targets)
            {
                if (t.Renderer == null) continue;
                for (int s = 0; s < t.Written.Length; s++)
                {
                    if (!t.Written[s]) continue;
                    if (t.Renderer.GetBlendShapeWeight(s) == t.LastWritten[s]) t.Renderer.SetBlendShapeWeight(s, t.Base[s]);
                    t.Written[s] = false;
                }
            }
        }

        /// <summary>The renderers and bindings in use (after <see cref="Rebind"/>): for tools such as the bake window.</summary>
        public IEnumerable<KeyValuePair<SkinnedMeshRenderer, List<BlendshapeBinding>>> Bindings
        {
            get { foreach (var t in m_Targets) yield return new KeyValuePair<SkinnedMeshRenderer, List<BlendshapeBinding>>(t.Renderer, t.Bindings); }
        }

        /// <summary>Blend the pose's curves into the blendshapes by <paramref name="w"/> (0..1).</summary>
        public void ApplyPose(PoseFrame pose, float w)
        {
            for (int i = 0; i < ArkitNames.Count; i++) m_Curves[i] = pose.Curves[i];
            if (!driveEyeShapes)
                for (int i = 0; i < ArkitNames.Count; i++)
                    if (ArkitNames.Names[i].StartsWith("eye")) m_Curves[i] = 0f;
            foreach (var t in m_Targets)
            {
                if (t.Renderer == null) continue;
                BlendshapeBinder.Evaluate(t.Bindings, m_Curves, weightScale, intensity, t.Weights, t.Touched);
                for (int s = 0; s < t.Weights.Length; s++)
                {
                    if (!t.Touched[s]) continue;
                    if (!driveEyeShapes && t.Weights[s] == 0f) continue;
                    float current = t.Renderer.GetBlendShapeWeight(s);
                    // unchanged since our last write: nobody else drives it, blend from the remembered base
                    if (!t.Written[s] || current != t.LastWritten[s]) t.Base[s] = current;
                    float v = Mathf.Lerp(t.Base[s], t.Weights[s], w);
                    t.Renderer.SetBlendShapeWeight(s, v);
                    t.LastWritten[s] = t.Renderer.GetBlendShapeWeight(s);
                    t.Written[s] = true;
                }
            }
        }
    }
}
