package ai.pela.spark.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Image-text test data from real Fashion-MNIST items: an image is two items side by side (56×28, colour), and its
 * captions say which garment is where, e.g. "a sneaker to the left of a shirt", as a caption set would.
 */
final class CaptionData {
    static final List<String> NAMES = List.of("t-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal",
            "shirt", "sneaker", "bag", "ankle boot");
    private static final ObjectMapper JSON = new ObjectMapper();

    private CaptionData() {
    }

    /** Items {@code left} and {@code right} side by side. */
    static BufferedImage pair(int left, int right) {
        BufferedImage img = new BufferedImage(56, 28, BufferedImage.TYPE_INT_RGB);
        img.getGraphics().drawImage(TestData.colour(left), 0, 0, null);
        img.getGraphics().drawImage(TestData.colour(right), 28, 0, null);
        return img;
    }

    /** Writes the pair as {@code root/relative} (JPEG or PNG by extension) and returns the file. */
    static Path writePair(Path root, String relative, int left, int right) {
        String format = relative.endsWith(".png") ? "png" : "jpg";
        return TestData.write(root.resolve(relative), TestData.encode(pair(left, right), format));
    }

    static String name(int item) {
        return NAMES.get(TestData.label(item));
    }

    /** Three ways to say where the two garments are. */
    static List<String> captions(int left, int right) {
        return List.of("a " + name(left) + " to the left of a " + name(right),
                "A " + name(right) + " to the right of a " + name(left) + ".",
                "Two garments: a " + name(left) + " and a " + name(right) + "!");
    }

    static Path writeJson(Path file, Object value) {
        try {
            TestData.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path writeText(Path file, String text) {
        return TestData.write(file, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
