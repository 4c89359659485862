package ai.pela.spark.jobs;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MasterCheckTest {
    private static final Duration SHORT = Duration.ofSeconds(2);

    @Test
    void aListeningMasterPasses() throws Exception {
        try (ServerSocket master = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThatCode(() -> MasterCheck.requireReachable("spark://127.0.0.1:" + master.getLocalPort(), SHORT))
                    .doesNotThrowAnyException();
        }
    }

    @Test
    void oneLiveMasterOfSeveralIsEnough() throws Exception {
        int dead = closedPort();
        try (ServerSocket master = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThatCode(() -> MasterCheck.requireReachable(
                    "spark://127.0.0.1:" + dead + ",127.0.0.1:" + master.getLocalPort(), SHORT)).doesNotThrowAnyException();
        }
    }

    @Test
    void aDeadMasterFailsPromptlyNamingTheUrl() throws Exception {
        String url = "spark://127.0.0.1:" + closedPort();
        assertThatThrownBy(() -> MasterCheck.requireReachable(url, SHORT))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("cannot reach the Spark master " + url)
                .hasMessageContaining("refused");
    }

    @Test
    void malformedUrlsAreNamed() {
        assertThatThrownBy(() -> MasterCheck.requireReachable("spark://127.0.0.1", SHORT))
                .hasMessageContaining("malformed Spark master URL spark://127.0.0.1");
        assertThatThrownBy(() -> MasterCheck.requireReachable("spark://127.0.0.1:seven", SHORT))
                .hasMessageContaining("port 'seven' is not a number");
    }

    @Test
    void otherMastersAreLeftToSpark() {
        assertThatCode(() -> MasterCheck.requireReachable("local[2]", SHORT)).doesNotThrowAnyException();
        assertThatCode(() -> MasterCheck.requireReachable("yarn", SHORT)).doesNotThrowAnyException();
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
