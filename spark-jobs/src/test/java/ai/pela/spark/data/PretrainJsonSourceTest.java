package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.io.Storage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainJsonSourceTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    private static Map<String, Object> entry(String image, Object caption) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("image", image);
        e.put("caption", caption);
        return e;
    }

    /**
     * Two annotation files as ALBEF's pre-training reads them: relative paths under the image root, an absolute
     * path, a caption string and caption lists, one image listed twice.
     */
    @Test
    void listsEveryEntryOfEveryFileInOrder() {
        CaptionData.writePair(root, "images/a.jpg", 0, 1);
        CaptionData.writePair(root, "images/b.png", 2, 3);
        Path absolute = CaptionData.writePair(root, "elsewhere/c.jpg", 4, 5);
        Path first = CaptionData.writeJson(root.resolve("ann/cc.json"), List.of(
                entry("a.jpg", CaptionData.captions(0, 1).get(0)),
                entry("b.png", CaptionData.captions(2, 3))));
        Path second = CaptionData.writeJson(root.resolve("ann/sbu.json"), List.of(
                entry(absolute.toString(), CaptionData.captions(4, 5).subList(0, 2)),
                entry("a.jpg", List.of("the same image again"))));

        List<Sample> samples = new PretrainJsonSource(storage, List.of(first.toString(), second.toString()),
                root.resolve("images").toString()).list();

        assertThat(samples).extracting(Sample::name).containsExactly("a.jpg", "b.png", "c.jpg", "a.jpg");
        assertThat(samples).extracting(Sample::label).containsExactly(0, 1, 2, 0);
        assertThat(samples).extracting(s -> s.captions().texts().size()).containsExactly(1, 3, 2, 1);
        assertThat(samples.get(0).captions().texts()).containsExactly("a " + CaptionData.name(0)
                + " to the left of a " + CaptionData.name(1));
        assertThat(samples).extracting(s -> s.captions().index()).containsExactly(0, 1, 2, 3);
        assertThat(samples).extracting(s -> s.captions().entry()).containsExactly(0, 1, 0, 1);
        assertThat(samples).allSatisfy(s -> assertThat(storage.exists(Storage.path(s.uri()))).isTrue());
        assertThat(samples.get(3).location()).isEqualTo(Storage.path(root.resolve("images/a.jpg").toString())
                + " (entry 1 of " + Storage.path(second.toString()) + ")");
    }

    @Test
    void withoutAnImageRootRelativePathsLieBesideTheAnnotationFile() {
        CaptionData.writePair(root, "set/pics/x.jpg", 7, 6);
        Path json = CaptionData.writeJson(root.resolve("set/ann.json"), List.of(entry("pics/x.jpg", "a caption")));
        Sample s = new PretrainJsonSource(storage, List.of(json.toUri().toString()), null).list().get(0);
        assertThat(s.uri()).isEqualTo(Storage.path(root.resolve("set/pics/x.jpg").toString()).toString());
    }

    private static Sample multi(int index, int captions) {
        List<String> texts = new ArrayList<>();
        for (int c = 0; c < captions; c++) {
            texts.add("caption " + c);
        }
        return Sample.captioned("file:/x/" + index + ".jpg", index, new Sample.Captions(texts, "file:/a.json", index, index));
    }

    @Test
    void theCaptionOfAnEpochIsAFunctionOfSeedEpochAndSampleIndex() {
        Sample s = multi(17, 5);
        assertThat(CaptionChoice.pick(s, 3, 2)).isEqualTo(CaptionChoice.pick(multi(17, 5), 3, 2));
        Set<String> overEpochs = new HashSet<>();
        Set<String> overSeeds = new HashSet<>();
        Set<String> overSamples = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            overEpochs.add(CaptionChoice.pick(s, 3, i));
            overSeeds.add(CaptionChoice.pick(s, i, 2));
            overSamples.add(CaptionChoice.pick(multi(i, 5), 3, 2));
        }
        assertThat(overEpochs).hasSize(5);
        assertThat(overSeeds).hasSize(5);
        assertThat(overSamples).hasSize(5);
        assertThat(CaptionChoice.pick(multi(4, 1), 3, 9)).isEqualTo("caption 0");
    }

    /** 50,000 draws over 5 captions: each within 4 % of a fifth, so no caption is favoured. */
    @Test
    void theChoiceIsUniform() {
        int[] counts = new int[5];
        for (int epoch = 0; epoch < 50; epoch++) {
            for (int index = 0; index < 1000; index++) {
                counts[CaptionChoice.index(11, epoch, index, 5)]++;
            }
        }
        for (int c : counts) {
            assertThat(c).isBetween(9_600, 10_400);
        }
    }

    /** The driver shards caption samples as it shards ImageNet: EpochPlan, disjoint, reproducible, serialisable. */
    @Test
    void shardsLikeImageNetAndTravelToExecutorsIntact() throws Exception {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            entries.add(entry("img/" + i + ".jpg", CaptionData.captions(i, i + 1)));
        }
        Path json = CaptionData.writeJson(root.resolve("ann.json"), entries);
        List<Sample> samples = new PretrainJsonSource(storage, List.of(json.toString()), root.toString()).list();
        EpochPlan plan = new EpochPlan(samples, 5, 2, 2, 4);
        assertThat(plan.roundsPerEpoch()).isEqualTo(2);
        Set<Sample> seen = new HashSet<>();
        for (int r = 0; r < plan.roundsPerEpoch(); r++) {
            List<List<List<Sample>>> round = plan.round(1, r);
            assertThat(round).isEqualTo(new EpochPlan(samples, 5, 2, 2, 4).round(1, r));
            round.forEach(worker -> worker.forEach(batch -> batch.forEach(s -> assertThat(seen.add(s)).isTrue())));
        }
        assertThat(seen).hasSize(32).isSubsetOf(samples);
        assertThat(roundTrip(plan.round(0, 0))).isEqualTo(plan.round(0, 0));
    }

    private static Object roundTrip(Object value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
