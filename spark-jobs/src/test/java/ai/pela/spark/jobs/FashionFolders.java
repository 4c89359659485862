package ai.pela.spark.jobs;

import ai.pela.zoo.data.Idx;
import ai.pela.zoo.testing.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes the 256 real Fashion-MNIST test items as PNGs in ImageNet folder layout (train: first n, val: the rest). */
public final class FashionFolders {
    private FashionFolders() {
    }

    public static Path write(Path root, int trainCount) throws IOException {
        Idx.UByteArray images = Idx.read(FashionMnist.file("train256-images-idx3-ubyte.gz"));
        Idx.UByteArray labels = Idx.read(FashionMnist.file("train256-labels-idx1-ubyte.gz"));
        for (int i = 0; i < images.count(); i++) {
            String split = i < trainCount ? "train" : "val";
            Path dir = Files.createDirectories(root.resolve(split).resolve("class" + labels.unsigned(i)));
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    int v = images.unsigned((long) i * 784 + y * 28 + x);
                    img.getRaster().setSample(x, y, 0, v);
                }
            }
            ImageIO.write(img, "png", dir.resolve(String.format("%05d.png", i)).toFile());
        }
        return root;
    }

    public static Path tinyVitConfig(Path dir) throws IOException {
        Path f = dir.resolve("vit-tiny.json");
        Files.writeString(f, "{\"img_size\": 28, \"patch_size\": 7, \"in_chans\": 3, \"embed_dim\": 32, \"depth\": 2,"
                + " \"num_heads\": 2, \"mlp_ratio\": 2.0, \"num_classes\": 10}");
        return f;
    }
}
