package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Ade20kSourceTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    private void image(String split, String name, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x336699);
        write(root.resolve("images/" + split + "/" + name), LabelPngs.encode(img));
    }

    private void annotation(String split, String name, byte[] png) throws IOException {
        write(root.resolve("annotations/" + split + "/" + name), png);
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
    }

    private Ade20kSource source() {
        return new Ade20kSource(storage, root.toUri().toString());
    }

    @Test
    void listsImagesWithTheirLabelMapsByName() throws IOException {
        image("validation", "ADE_val_00000002.jpg", 3, 2);
        image("validation", "ADE_val_00000001.jpg", 3, 2);
        annotation("validation", "ADE_val_00000001.png", LabelPngs.grey(3, 2, new int[6]));
        annotation("validation", "ADE_val_00000002.png", LabelPngs.grey(3, 2, new int[6]));
        write(root.resolve("images/validation/.DS_Store"), new byte[1]);
        write(root.resolve("images/validation/notes.txt"), new byte[1]);
        List<SegSample> samples = source().list(Ade20kSource.VALIDATION);
        assertThat(samples).extracting(SegSample::name).containsExactly("ADE_val_00000001.jpg", "ADE_val_00000002.jpg");
        assertThat(samples.get(0).annotation()).startsWith("file:").endsWith("/annotations/validation/ADE_val_00000001.png");
    }

    @Test
    void anImageWithoutLabelMapFailsNamingIt() throws IOException {
        image("training", "a.jpg", 2, 2);
        image("training", "b.jpg", 2, 2);
        annotation("training", "a.png", LabelPngs.grey(2, 2, new int[4]));
        assertThatThrownBy(() -> source().list(Ade20kSource.TRAINING))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("annotations/training: no label map for 1 image(s)")
                .hasMessageContaining("e.g. b.jpg");
    }

    @Test
    void aLabelMapWithoutImageFailsNamingIt() throws IOException {
        image("training", "a.jpg", 2, 2);
        annotation("training", "a.png", LabelPngs.grey(2, 2, new int[4]));
        annotation("training", "stray.png", LabelPngs.grey(2, 2, new int[4]));
        assertThatThrownBy(() -> source().list(Ade20kSource.TRAINING))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("1 label map(s) without an image")
                .hasMessageContaining("stray.png");
    }

    @Test
    void aMissingSplitFailsSayingWhatLayoutIsExpected() {
        assertThatThrownBy(() -> source().list("validation"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("images/validation: directory does not exist")
                .hasMessageContaining("training or validation");
    }

    @Test
    void reducesZeroLabelAsMmsegDoes() {
        // stored 0 (other) → ignored; 1..150 → 0..149; 255 stays ignored
        LabelMap m = Ade20kSource.decodeLabels(LabelPngs.grey(5, 1, new int[] {0, 1, 2, 150, 255}), "x.png");
        assertThat(m.labels()).containsExactly(255, 0, 1, 149, 255);
        assertThat(m.width()).isEqualTo(5);
        assertThat(m.at(3, 0)).isEqualTo(149);
    }

    @Test
    void aPaletteLabelMapIsReadAsItsIndicesAsPilReadsIt() {
        LabelMap m = Ade20kSource.decodeLabels(LabelPngs.palette(2, 2, new int[] {0, 7, 150, 3}), "p.png");
        assertThat(m.labels()).containsExactly(255, 6, 149, 2);
    }

    @Test
    void labelsAboveTheClassCountFailNamingFileValueAndPixel() {
        assertThatThrownBy(() -> Ade20kSource.decodeLabels(LabelPngs.grey(3, 2, new int[] {0, 0, 0, 0, 151, 0}), "bad.png"))
                .isInstanceOf(PelaException.class)
                .hasMessage("bad.png: label 151 at pixel (1, 1) is not an ADE20K class (0 = other, 1..150, or 255 = ignore)");
    }

    @Test
    void labelMapsThatAreNotOneEightBitChannelFail() {
        int[] v = {1, 2, 3, 4};
        assertThatThrownBy(() -> Ade20kSource.decodeLabels(LabelPngs.rgb(2, 2, v), "rgb.png"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("rgb.png: label map has 3 channels (RGB)");
        assertThatThrownBy(() -> Ade20kSource.decodeLabels(LabelPngs.grey16(2, 2, v), "deep.png"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("deep.png: label map is 16-bit grey");
        assertThatThrownBy(() -> Ade20kSource.decodeLabels(new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2}, "x.png"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("x.png: not a PNG file");
        byte[] png = LabelPngs.grey(2, 2, v);
        byte[] truncated = java.util.Arrays.copyOf(png, png.length / 2);
        assertThatThrownBy(() -> Ade20kSource.decodeLabels(truncated, "cut.png"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("cut.png: corrupt PNG label map");
    }

    @Test
    void loadsImageAndLabelsAndRefusesDifferentSizes() throws IOException {
        image("validation", "a.jpg", 3, 2);
        image("validation", "b.jpg", 3, 2);
        annotation("validation", "a.png", LabelPngs.grey(3, 2, new int[] {1, 2, 3, 0, 0, 0}));
        annotation("validation", "b.png", LabelPngs.grey(2, 3, new int[6]));
        List<SegSample> samples = source().list(Ade20kSource.VALIDATION);
        Ade20kSource.Example a = Ade20kSource.load(storage, samples.get(0));
        assertThat(a.image().getWidth()).isEqualTo(3);
        assertThat(a.label().labels()).containsExactly(0, 1, 2, 255, 255, 255);
        assertThatThrownBy(() -> Ade20kSource.load(storage, samples.get(1)))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("b.png: label map is 2x3 but its image b.jpg is 3x2");
    }
}
