using System.Collections.Generic;
using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// User mapping from ARKit curves to a character's blendshapes, for characters whose shapes are
    /// not named after ARKit (automatic matching handles camelCase, PascalCase, _L/_R, prefixes like
    /// "blendShape1." and "A25_"). Create with Assets > Create > EmoAnim > Blendshape Map.
    /// </summary>
    [CreateAssetMenu(menuName = "EmoAnim/Blendshape Map", fileName = "EmoAnimBlendshapeMap")]
    public class EmoAnimBlendshapeMap : ScriptableObject
    {
        [Tooltip("Also drive every blendshape whose name matches an ARKit name (entries below win for their blendshape).")]
        public bool autoMatchArkitNames = true;
        public List<BlendshapeMapEntry> entries = new List<BlendshapeMapEntry>();
    }
}
