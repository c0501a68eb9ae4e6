// Minimal stand-in for UnityEditor.dll (see UnityEngine.cs): the members the package's Editor code
// uses, with the real signatures documented at the URLs below. Nothing here draws anything.
using System;
using UnityEngine;

namespace UnityEditor
{
    // https://docs.unity3d.com/ScriptReference/EditorWindow.html
    public class EditorWindow : ScriptableObject
    {
        // https://docs.unity3d.com/ScriptReference/EditorWindow-titleContent.html
        public GUIContent titleContent { get; set; }
        // https://docs.unity3d.com/ScriptReference/EditorWindow.GetWindow.html
        public static T GetWindow<T>() where T : EditorWindow, new() { return new T(); }
    }

    // https://docs.unity3d.com/ScriptReference/Editor.html
    public class Editor : ScriptableObject
    {
        // https://docs.unity3d.com/ScriptReference/Editor-target.html
        public UnityEngine.Object target { get; set; }
        // https://docs.unity3d.com/ScriptReference/Editor.OnInspectorGUI.html
        public virtual void OnInspectorGUI() { }
        // https://docs.unity3d.com/ScriptReference/Editor.DrawDefaultInspector.html
        public bool DrawDefaultInspector() { return false; }
        // https://docs.unity3d.com/ScriptReference/Editor.Repaint.html
        public void Repaint() { }
    }

    // https://docs.unity3d.com/ScriptReference/CustomEditor.html
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CustomEditor : Attribute { public CustomEditor(Type inspectedType) { } }

    // https://docs.unity3d.com/ScriptReference/MessageType.html
    public enum MessageType { None, Info, Warning, Error }

    // https://docs.unity3d.com/ScriptReference/EditorStyles.html
    public static class EditorStyles
    {
        // https://docs.unity3d.com/ScriptReference/EditorStyles-boldLabel.html
        public static GUIStyle boldLabel { get { return new GUIStyle(); } }
    }

    // https://docs.unity3d.com/ScriptReference/EditorGUILayout.html
    public static class EditorGUILayout
    {
        public static Vector2 BeginScrollView(Vector2 scrollPosition, params GUILayoutOption[] options) { return scrollPosition; }
        public static void EndScrollView() { }
        public static void BeginHorizontal(params GUILayoutOption[] options) { }
        public static void EndHorizontal() { }
        public static void LabelField(string label, GUIStyle style, params GUILayoutOption[] options) { }
        public static void LabelField(string label, string label2, params GUILayoutOption[] options) { }
        public static void Space() { }
        public static void HelpBox(string message, MessageType type) { }
        // https://docs.unity3d.com/ScriptReference/EditorGUILayout.ObjectField.html
        public static UnityEngine.Object ObjectField(UnityEngine.Object obj, Type objType, bool allowSceneObjects, params GUILayoutOption[] options) { return obj; }
        public static UnityEngine.Object ObjectField(string label, UnityEngine.Object obj, Type objType, bool allowSceneObjects, params GUILayoutOption[] options) { return obj; }
        public static string TextField(string label, string text, params GUILayoutOption[] options) { return text; }
        public static string TextField(GUIContent label, string text, params GUILayoutOption[] options) { return text; }
        public static bool Toggle(string label, bool value, params GUILayoutOption[] options) { return value; }
        public static int IntField(string label, int value, params GUILayoutOption[] options) { return value; }
        public static float Slider(string label, float value, float leftValue, float rightValue, params GUILayoutOption[] options) { return value; }
        // https://docs.unity3d.com/ScriptReference/EditorGUILayout.EnumPopup.html
        public static Enum EnumPopup(string label, Enum selected, params GUILayoutOption[] options) { return selected; }
    }

    // https://docs.unity3d.com/ScriptReference/Selection.html
    public static class Selection
    {
        public static UnityEngine.Object[] objects { get; set; } = new UnityEngine.Object[0];
        public static GameObject activeGameObject { get; set; }
    }

    // https://docs.unity3d.com/ScriptReference/EditorUtility.html
    public static class EditorUtility
    {
        public static void DisplayProgressBar(string title, string info, float progress) { }
        public static void ClearProgressBar() { }
        public static bool DisplayDialog(string title, string message, string ok) { return true; }
    }

    // https://docs.unity3d.com/ScriptReference/AssetDatabase.html
    public static class AssetDatabase
    {
        public static readonly System.Collections.Generic.Dictionary<string, UnityEngine.Object> StubAssets = new System.Collections.Generic.Dictionary<string, UnityEngine.Object>();
        public static void CreateAsset(UnityEngine.Object asset, string path) { StubAssets[path] = asset; }
        public static void SaveAssets() { }
        public static void Refresh() { }
        public static bool IsValidFolder(string path) { return true; }
        public static string CreateFolder(string parentFolder, string newFolderName) { return ""; }
        public static string GenerateUniqueAssetPath(string path) { return path; }
    }

    // https://docs.unity3d.com/ScriptReference/EditorCurveBinding.html
    public struct EditorCurveBinding
    {
        public string path, propertyName;
        public Type type;
        // https://docs.unity3d.com/ScriptReference/EditorCurveBinding.FloatCurve.html
        public static EditorCurveBinding FloatCurve(string inPath, Type inType, string inPropertyName)
        {
            return new EditorCurveBinding { path = inPath, type = inType, propertyName = inPropertyName };
        }
    }

    // https://docs.unity3d.com/ScriptReference/AnimationUtility.html
    public static class AnimationUtility
    {
        // https://docs.unity3d.com/ScriptReference/AnimationUtility.SetEditorCurve.html
        public static void SetEditorCurve(AnimationClip clip, EditorCurveBinding binding, AnimationCurve curve)
        {
            clip.SetCurve(binding.path, binding.type, binding.propertyName, curve);
        }
        // https://docs.unity3d.com/ScriptReference/AnimationUtility.GetCurveBindings.html
        public static EditorCurveBinding[] GetCurveBindings(AnimationClip clip)
        {
            var list = new System.Collections.Generic.List<EditorCurveBinding>();
            foreach (var key in clip.StubCurves)
            {
                var parts = key.Split('|');
                list.Add(EditorCurveBinding.FloatCurve(parts[0], clip.StubCurveTypes[key], parts[2]));
            }
            return list.ToArray();
        }
        // https://docs.unity3d.com/ScriptReference/AnimationUtility.GetEditorCurve.html
        public static AnimationCurve GetEditorCurve(AnimationClip clip, EditorCurveBinding binding)
        {
            AnimationCurve c;
            return clip.StubCurveData.TryGetValue(binding.path + "|" + binding.type.Name + "|" + binding.propertyName, out c) ? c : null;
        }
        // https://docs.unity3d.com/ScriptReference/AnimationUtility.CalculateTransformPath.html
        public static string CalculateTransformPath(Transform targetTransform, Transform root)
        {
            string p = "";
            for (var t = targetTransform; t != null && t != root; t = t.parent) p = p.Length == 0 ? t.name : t.name + "/" + p;
            return p;
        }
    }

    // https://docs.unity3d.com/ScriptReference/Undo.html
    public static class Undo
    {
        public static void RegisterCreatedObjectUndo(UnityEngine.Object objectToUndo, string name) { }
        // https://docs.unity3d.com/ScriptReference/Undo.AddComponent.html
        public static T AddComponent<T>(GameObject gameObject) where T : Component, new() { return gameObject.AddComponent<T>(); }
    }

    // https://docs.unity3d.com/ScriptReference/MenuItem.html
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { }
        public MenuItem(string itemName, bool isValidateFunction, int priority) { }
    }

    // https://docs.unity3d.com/ScriptReference/InitializeOnLoadAttribute.html
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class InitializeOnLoadAttribute : Attribute { }

    // https://docs.unity3d.com/ScriptReference/PlayModeStateChange.html
    public enum PlayModeStateChange { EnteredEditMode, ExitingEditMode, EnteredPlayMode, ExitingPlayMode }

    // https://docs.unity3d.com/ScriptReference/EditorApplication.html
    public static class EditorApplication
    {
        // https://docs.unity3d.com/ScriptReference/EditorApplication-isPlaying.html
        public static bool isPlaying { get; set; }
        // https://docs.unity3d.com/ScriptReference/EditorApplication-playModeStateChanged.html
        public static event Action<PlayModeStateChange> playModeStateChanged;
    }
}
