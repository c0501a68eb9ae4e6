using UnityEditor;
using UnityEngine;
using EmoAnim.Unity;

namespace EmoAnim.Editor
{
    /// <summary>GameObject menu entries that set a character up in one click.</summary>
    public static class EmoAnimEditorMenu
    {
        [MenuItem("GameObject/EmoAnim/Client + Server Launcher", false, 10)]
        public static void CreateClient()
        {
            var go = new GameObject("EmoAnim");
            go.AddComponent<EmoAnimServerLauncher>();
            go.AddComponent<EmoAnimClient>();
            Undo.RegisterCreatedObjectUndo(go, "Create EmoAnim client");
            Selection.activeGameObject = go;
        }

        /// <summary>Adds speaker, face, eye/head and body drivers to the selected character root.</summary>
        [MenuItem("GameObject/EmoAnim/Make Selected Character Talk", false, 11)]
        public static void SetupCharacter()
        {
            var go = Selection.activeGameObject;
            if (go == null) { EditorUtility.DisplayDialog("EmoAnim", "Select the character's root GameObject first.", "OK"); return; }
            if (EmoAnimClient.FindInScene<EmoAnimClient>() == null) CreateClient();
            Selection.activeGameObject = go;
            if (go.GetComponent<EmoAnimSpeaker>() == null) Undo.AddComponent<EmoAnimSpeaker>(go);
            if (go.GetComponent<EmoAnimFaceDriver>() == null) Undo.AddComponent<EmoAnimFaceDriver>(go);
            if (go.GetComponent<EmoAnimEyeHeadDriver>() == null) Undo.AddComponent<EmoAnimEyeHeadDriver>(go);
            var animator = go.GetComponentInChildren<Animator>();
            if (animator != null && animator.isHuman && go.GetComponent<EmoAnimBodyDriver>() == null) Undo.AddComponent<EmoAnimBodyDriver>(go);
            var face = go.GetComponent<EmoAnimFaceDriver>();
            face.Rebind();
            Debug.Log("[EmoAnim] " + go.name + ": " + face.BoundShapeCount + " blendshapes bound. Assign an AudioClip to EmoAnimSpeaker and press Play.", go);
        }
    }

    /// <summary>
    /// Safety net for play-mode exit: the launcher stops the server it started in OnDisable; this also
    /// covers domain reloads that skip it.
    /// </summary>
    [InitializeOnLoad]
    static class EmoAnimPlayModeHook
    {
        static EmoAnimPlayModeHook()
        {
            EditorApplication.playModeStateChanged += OnPlayModeChanged;
        }

        static void OnPlayModeChanged(PlayModeStateChange change)
        {
            if (change != PlayModeStateChange.ExitingPlayMode) return;
            var launcher = EmoAnimClient.FindInScene<EmoAnimServerLauncher>();
            if (launcher != null) launcher.Shutdown();
        }
    }
}
