package ai.pela.spark.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;

/**
 * Bytes per second of Java serialisation + deserialisation of a float[] (what Spark's default serializer does to
 * the broadcast state and the workers' results), the non-network cost per copy in the cost model.
 */
public final class SerialRate {
    private SerialRate() {
    }

    public static double measure(int floats, int reps) {
        float[] a = new float[floats];
        for (int i = 0; i < a.length; i++) {
            a[i] = i * 1e-6f;
        }
        double[] t = Timing.repeat(reps, () -> roundTrip(a));
        return 4.0 * floats / Timing.median(t);
    }

    /** The same for a byte[] of as many bytes (how the ring exchange packs what rank 0 sends to the driver). */
    public static double measurePacked(int floats, int reps) {
        byte[] a = new byte[4 * floats];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) i;
        }
        double[] t = Timing.repeat(reps, () -> roundTrip(a));
        return 4.0 * floats / Timing.median(t);
    }

    private static void roundTrip(Object a) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(java.lang.reflect.Array.getLength(a) * 4 + 64);
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(a);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                if (java.lang.reflect.Array.getLength(in.readObject()) != java.lang.reflect.Array.getLength(a)) {
                    throw new IllegalStateException("serialisation lost values");
                }
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }
}
