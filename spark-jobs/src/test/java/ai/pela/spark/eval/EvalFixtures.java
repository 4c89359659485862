package ai.pela.spark.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The reference fixtures under src/test/resources/fixtures, made by src/test/python/make_eval_fixtures.py. */
final class EvalFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private EvalFixtures() {
    }

    static Path path(String relative) {
        URL url = EvalFixtures.class.getResource("/fixtures/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing test resource fixtures/" + relative
                    + " (regenerate with spark-jobs/src/test/python/make_eval_fixtures.py)");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String relative) {
        try {
            return JSON.readTree(path(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
