package ai.pela.spark.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.CocoDetection;
import ai.pela.spark.eval.CocoEval;
import ai.pela.spark.eval.CocoInstances;
import ai.pela.spark.eval.CocoStats;
import ai.pela.spark.eval.LabelMap;
import ai.pela.spark.eval.SegHistogram;
import ai.pela.spark.eval.SegSample;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.testing.FashionMnist;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForgedScenesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static FashionMnistExport.Split items;

    @TempDir
    Path dir;

    private final Storage storage = Storage.local();

    @BeforeAll
    static void readItems() {
        // 256 real Fashion-MNIST items from model-zoo's test resources, for both splits
        items = FashionMnistExport.Split.read("train", FashionMnist.file("train256-images-idx3-ubyte.gz"),
                FashionMnist.file("train256-labels-idx1-ubyte.gz"), 0);
    }

    private ForgedScenes.Summary forge(String name, long seed, int train, int val) {
        return ForgedScenes.write(items, items, dir.resolve(name), ForgedScenes.Options.of(seed, train, val));
    }

    @Test
    void writesBothLayoutsThatTheRealReadersAccept() {
        ForgedScenes.Summary s = forge("a", 11, 5, 40);
        assertThat(s.reused()).isFalse();
        Ade20kSource ade = new Ade20kSource(storage, s.ade20k().toString());
        assertThat(ade.list(Ade20kSource.TRAINING)).hasSize(5);
        List<SegSample> val = ade.list(Ade20kSource.VALIDATION);
        assertThat(val).hasSize(40);
        assertThat(val.get(0).name()).isEqualTo("forged_val_00000001.jpg");
        CocoInstances gt = CocoInstances.read(storage, s.cocoInstances("val").toString());
        assertThat(gt.images()).hasSize(40);
        assertThat(gt.categories()).hasSize(10);
        assertThat(CocoInstances.read(storage, s.cocoInstances("train").toString()).images()).hasSize(5);
        for (CocoInstances.Image img : gt.images()) {
            assertThat(dir.resolve("a/coco/val").resolve(img.fileName())).isRegularFile();
            assertThat(img.width()).isEqualTo(128);
        }
        assertThat(s.objects()).isEqualTo(s.small() + s.medium() + s.large());
        assertThat(s.small()).as("small objects").isPositive();
        assertThat(s.medium()).as("medium objects").isPositive();
        assertThat(s.large()).as("large objects").isPositive();
    }

    @Test
    void boxesAreTheTightBoxesOfTheLabelMapsAndRleMasksMatchThem() throws IOException {
        ForgedScenes.Summary s = forge("a", 5, 0, 20);
        CocoInstances gt = CocoInstances.read(storage, s.cocoInstances("val").toString());
        JsonNode raw = JSON.readTree(s.cocoInstances("val").toFile());
        List<SegSample> samples = new Ade20kSource(storage, s.ade20k().toString()).list(Ade20kSource.VALIDATION);
        int annotationIndex = 0;
        for (int i = 0; i < samples.size(); i++) {
            Ade20kSource.Example ex = Ade20kSource.load(storage, samples.get(i));
            LabelMap label = ex.label();
            List<CocoInstances.Annotation> anns = gt.annotationsOf(i + 1);
            assertThat(anns).isNotEmpty();
            long labelled = java.util.Arrays.stream(label.labels()).filter(v -> v != SegHistogram.IGNORE_INDEX).count();
            assertThat(anns.stream().mapToDouble(CocoInstances.Annotation::area).sum()).isEqualTo(labelled);
            for (CocoInstances.Annotation a : anns) {
                checkTight(label, a);
                checkRle(label, a, raw.get("annotations").get(annotationIndex++).get("segmentation"));
            }
        }
    }

    /** The box holds exactly {@code area} pixels of its class (objects never share a box), and touches each edge. */
    private static void checkTight(LabelMap label, CocoInstances.Annotation a) {
        int cls = a.categoryId() - 1;  // stored category id c + 1 becomes class c after reduce_zero_label
        int x0 = (int) a.bbox().x();
        int y0 = (int) a.bbox().y();
        int x1 = x0 + (int) a.bbox().w() - 1;
        int y1 = y0 + (int) a.bbox().h() - 1;
        int inside = 0;
        boolean left = false;
        boolean right = false;
        boolean top = false;
        boolean bottom = false;
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                if (label.at(x, y) == cls) {
                    inside++;
                    left |= x == x0;
                    right |= x == x1;
                    top |= y == y0;
                    bottom |= y == y1;
                }
            }
        }
        assertThat(inside).as("annotation %d", a.id()).isEqualTo((int) a.area());
        assertThat(List.of(left, right, top, bottom)).as("annotation %d touches its box", a.id()).containsOnly(true);
    }

    private static void checkRle(LabelMap label, CocoInstances.Annotation a, JsonNode rle) {
        assertThat(rle.get("size").toString()).isEqualTo("[128,128]");
        int pos = 0;
        boolean on = false;
        int count = 0;
        for (JsonNode run : rle.get("counts")) {
            for (int k = 0; k < run.asInt(); k++, pos++) {
                int x = pos / 128;
                int y = pos % 128;  // column-major
                boolean inBox = x >= a.bbox().x() && x < a.bbox().x() + a.bbox().w()
                        && y >= a.bbox().y() && y < a.bbox().y() + a.bbox().h();
                boolean object = inBox && label.at(x, y) == a.categoryId() - 1;
                assertThat(on).as("annotation %d pixel (%d, %d)", a.id(), x, y).isEqualTo(object);
                count += on ? 1 : 0;
            }
            on = !on;
        }
        assertThat(pos).isEqualTo(128 * 128);
        assertThat(count).isEqualTo((int) a.area());
    }

    @Test
    void perfectPredictionsScorePerfectlyThroughTheEvaluators() {
        ForgedScenes.Summary s = forge("a", 3, 0, 12);
        CocoInstances gt = CocoInstances.read(storage, s.cocoInstances("val").toString());
        List<CocoDetection> perfect = new ArrayList<>();
        for (CocoInstances.Annotation a : gt.annotations()) {
            perfect.add(new CocoDetection(a.imageId(), a.categoryId(), a.bbox(), 0.5));
        }
        CocoStats stats = CocoEval.evaluate(gt, perfect);
        assertThat(stats.ap()).isCloseTo(1.0, within(1e-12));
        assertThat(stats.get("AR100")).isCloseTo(1.0, within(1e-12));

        SegHistogram h = new SegHistogram(Ade20kSource.NUM_CLASSES);
        for (SegSample sample : new Ade20kSource(storage, s.ade20k().toString()).list(Ade20kSource.VALIDATION)) {
            int[] labels = Ade20kSource.load(storage, sample).label().labels();
            int[] pred = labels.clone();
            for (int i = 0; i < pred.length; i++) {
                pred[i] = pred[i] == SegHistogram.IGNORE_INDEX ? 0 : pred[i];  // the background is not scored
            }
            h.add(pred, labels);
        }
        assertThat(h.miou()).isEqualTo(1.0);
        assertThat(h.aAcc()).isEqualTo(1.0);
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOtherScenes() throws IOException {
        forge("a", 42, 3, 4);
        forge("b", 42, 3, 4);
        forge("c", 43, 3, 4);
        List<Path> files = files(dir.resolve("a"));
        assertThat(files).hasSize(3 * 3 + 4 * 3 + 2 + 1);
        for (Path f : files) {
            assertThat(Files.readAllBytes(dir.resolve("b").resolve(f))).as(f.toString())
                    .isEqualTo(Files.readAllBytes(dir.resolve("a").resolve(f)));
        }
        Path instances = Path.of("coco/annotations/instances_val.json");
        assertThat(Files.readString(dir.resolve("c").resolve(instances)))
                .isNotEqualTo(Files.readString(dir.resolve("a").resolve(instances)));
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }

    @Test
    void sameOptionsReuseTheDataAndAForeignDirectoryIsRefused() throws IOException {
        forge("a", 1, 2, 2);
        Path instances = dir.resolve("a/coco/annotations/instances_val.json");
        long written = Files.getLastModifiedTime(instances).toMillis();
        ForgedScenes.Summary again = forge("a", 1, 2, 2);
        assertThat(again.reused()).isTrue();
        assertThat(again.valImages()).isEqualTo(2);
        assertThat(Files.getLastModifiedTime(instances).toMillis()).isEqualTo(written);
        assertThat(forge("a", 2, 2, 2).reused()).isFalse();

        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/notes.txt"), "keep");
        assertThatThrownBy(() -> forge("mine", 1, 1, 1))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("non-empty directory without a .complete marker");
        assertThat(dir.resolve("mine/notes.txt")).hasContent("keep");
        assertThatThrownBy(() -> ForgedScenes.Options.of(1, 0, 0)).hasMessageContaining("not both 0");
    }

    @Test
    void rleRunsStartWithBackgroundAndGoDownColumns() {
        boolean[] mask = new boolean[3 * 3];
        mask[0] = true;      // (0, 0)
        mask[3] = true;      // (0, 1)
        mask[1] = true;      // (1, 0)
        assertThat(ForgedScenes.rle(mask, 3)).containsExactly(0, 2, 1, 1, 5);
    }
}
