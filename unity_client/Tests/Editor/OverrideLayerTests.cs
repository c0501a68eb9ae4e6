using System.Collections.Generic;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    /// <summary>Override layers (docs/overrides.md): edits -> keys -> the same values again; JSON both ways.</summary>
    [TestFixture]
    public class OverrideLayerTests
    {
        static float[][] Flat(int frames, float v)
        {
            var c = new float[ArkitNames.Count][];
            for (int i = 0; i < c.Length; i++) { c[i] = new float[frames]; for (int f = 0; f < frames; f++) c[i][f] = v; }
            return c;
        }

        [Test]
        public void EditsBecomeKeysThatReproduceThemFrameForFrame()
        {
            var baked = Flat(60, 0.3f);
            var edited = Flat(60, 0.3f);
            int jaw = ArkitNames.IndexOf("jawOpen");
            for (int f = 10; f <= 20; f++) edited[jaw][f] = 0.3f + 0.02f * (f - 10);   // a ramp up
            var layer = OverrideLayer.FromEdits("l", 30, baked, edited);
            Assert.AreEqual(1, layer.Curves.Count);
            var keys = layer.Curves["jawOpen"].Offset;
            Assert.AreEqual(0.0, keys[0][1], 1e-9);                      // zero key before the span
            Assert.AreEqual(0.0, keys[keys.Count - 1][1], 1e-9);         // and after it
            Assert.Less(keys.Count, 11);                                  // the straight ramp needs few keys
            for (int f = 0; f < 60; f++)
                Assert.AreEqual(edited[jaw][f] - baked[jaw][f], OverrideLayer.OffsetAt(keys, f / 30.0), 1e-3, "frame " + f);
        }

        [Test]
        public void JsonRoundTripAndApply()
        {
            string json = "{\"format\": \"emoanim-overrides\", \"version\": 1, \"line\": \"x\", \"curves\": {"
                        + "\"JawOpen\": {\"offset\": [[0.5, 0.0], [1.0, 0.3], [1.5, 0.0]]},"
                        + "\"browInnerUp\": {\"hold\": [{\"start\": 1.0, \"end\": 1.5, \"value\": 0.8, \"blend\": 0.25}]},"
                        + "\"HeadYaw\": {\"offset\": [[0, 0.1], [3, 0.1]]}}}";
            var layer = OverrideLayer.Parse(json);
            var again = OverrideLayer.Parse(layer.ToJson());
            Assert.AreEqual(3, again.Curves.Count);
            var frames = new List<PoseFrame>();
            for (int i = 0; i < 90; i++)
            {
                var f = new PoseFrame { Index = i, Time = i / 30.0 };
                for (int c = 0; c < ArkitNames.Count; c++) f.Curves[c] = 0.2f;
                frames.Add(f);
            }
            again.Apply(frames);
            int jaw = ArkitNames.IndexOf("jawOpen"), brow = ArkitNames.IndexOf("browInnerUp");
            Assert.AreEqual(0.5, frames[30].Curves[jaw], 1e-6);           // t = 1.0: 0.2 + 0.3
            Assert.AreEqual(0.2, frames[10].Curves[jaw], 1e-6);           // before the keys
            Assert.AreEqual(0.8, frames[40].Curves[brow], 1e-6);          // held
            Assert.AreEqual(0.2 + 0.6 * (1 - 0.1 / 0.25), frames[27].Curves[brow], 1e-5);  // blending in at t = 0.9
            Assert.AreEqual(-0.1, frames[50].HeadYaw, 1e-6);  // the CSV's yaw sign; PoseFrame's is the opposite
        }

        [Test]
        public void BadLayersAreRefused()
        {
            Assert.Throws<System.FormatException>(() => OverrideLayer.Parse("{\"curves\": {\"Jaw\": {}}}"));
            Assert.Throws<System.FormatException>(() => OverrideLayer.Parse("{\"curves\": 3}"));
            Assert.Throws<System.FormatException>(() => OverrideLayer.Parse("{\"curves\": {}} trailing"));
        }
    }
}
