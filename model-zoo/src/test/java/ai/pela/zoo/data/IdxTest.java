package ai.pela.zoo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.testing.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @Test
    void readsTheRealFashionMnistSubset() {
        Idx.UByteArray images = Idx.read(FashionMnist.file("train256-images-idx3-ubyte.gz"));
        Idx.UByteArray labels = Idx.read(FashionMnist.file("train256-labels-idx1-ubyte.gz"));
        assertThat(images.dims()).containsExactly(256, 28, 28);
        assertThat(labels.dims()).containsExactly(256);
        // The first training item of Fashion-MNIST is an ankle boot (class 9), the second a T-shirt (0).
        assertThat(labels.unsigned(0)).isEqualTo(9);
        assertThat(labels.unsigned(1)).isEqualTo(0);
    }

    @Test
    void badFilesFailNamingTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x-idx3-ubyte");
        Files.write(f, new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3});
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(PelaException.class)
                .hasMessageContaining("x-idx3-ubyte").hasMessageContaining("truncated");
        Files.write(f, new byte[] {1, 2, 3, 4, 0, 0, 0, 0});
        assertThatThrownBy(() -> Idx.read(f)).hasMessageContaining("not an unsigned-byte IDX file");
    }
}
