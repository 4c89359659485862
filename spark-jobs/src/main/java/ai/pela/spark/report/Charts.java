package ai.pela.spark.report;

import ai.pela.zoo.io.AtomicFile;

import ai.pela.spark.train.RoundMetrics;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The demo's PNG plots, drawn with XChart off screen: the loss components per round, the top-1 accuracy of each
 * model, and the rank of every decomposed Linear of the student beside its full rank.
 * Each method writes one PNG (atomically) and returns its path.
 */
public final class Charts {
    static {
        // The demo runs on servers without a display; AWT must be told before its first use, or it fails there.
        System.setProperty("java.awt.headless", "true");
    }

    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    /** Horizontal room per bar group of the rank chart, so that a 12-block model's 48 names stay readable. */
    private static final int PIXELS_PER_LAYER = 26;
    /** Beyond this many rounds, point markers merge into a smear; the lines alone read better. */
    private static final int MAX_POINTS_WITH_MARKERS = 60;
    /** Width of a character of the 12-point axis labels, rounded up, and the angle that long labels are drawn at. */
    private static final int PIXELS_PER_LABEL_CHAR = 8;
    private static final int LONG_LABEL_ROTATION = 20;
    /** Loss components spanning more than this factor are drawn on a log scale, or the small ones look flat at 0. */
    private static final double LOG_SCALE_SPAN = 30;
    private static final Color FULL_RANK_COLOUR = new Color(0xC8, 0xD3, 0xE0);
    private static final Color RANK_COLOUR = new Color(0x2B, 0x6C, 0xB0);
    private static final Color ACCURACY_COLOUR = new Color(0x2F, 0x85, 0x5A);

    private Charts() {
    }

    // ---------------------------------------------------------------------------------------------- losses

    private record Component(String label, ToDoubleFunction<RoundMetrics> value) {
    }

    private static final List<Component> LOSS_COMPONENTS = List.of(
            new Component("total", RoundMetrics::loss),
            new Component("base (cross-entropy)", RoundMetrics::lossBase),
            new Component("fd (feature distillation)", RoundMetrics::lossFd),
            new Component("rwp (weight perturbation)", RoundMetrics::lossRwp));

    /**
     * Loss components per round, one line each (total, base, fd, rwp). Non-finite values are left out, and a
     * component with no finite value at all (not computed in this run) gets no line.
     *
     * @throws IllegalArgumentException when no round has a finite loss
     */
    public static Path losses(List<RoundMetrics> rounds, Path file) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Training loss per round")
                .xAxisTitle("round").yAxisTitle("loss (mean per example)").build();
        style(chart.getStyler());
        legendBelow(chart.getStyler());
        chart.getStyler().setXAxisDecimalPattern("#");
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (Component c : LOSS_COMPONENTS) {
            List<double[]> points = finitePoints(rounds, c.value());
            if (points.isEmpty()) {
                continue;
            }
            addLine(chart, c.label(), points);
            for (double[] p : points) {
                min = Math.min(min, p[1]);
                max = Math.max(max, p[1]);
            }
        }
        if (chart.getSeriesMap().isEmpty()) {
            throw new IllegalArgumentException(file + ": no finite loss in " + rounds.size() + " rounds to plot");
        }
        chart.getStyler().setYAxisLogarithmic(min > 0 && max / min > LOG_SCALE_SPAN);
        return save(chart, file);
    }

    private static List<double[]> finitePoints(List<RoundMetrics> rounds, ToDoubleFunction<RoundMetrics> value) {
        List<double[]> points = new ArrayList<>();
        for (RoundMetrics m : rounds) {
            double v = value.applyAsDouble(m);
            if (Double.isFinite(v)) {
                points.add(new double[] {m.round(), v});
            }
        }
        return points;
    }

    private static void addLine(XYChart chart, String label, List<double[]> points) {
        double[] x = points.stream().mapToDouble(p -> p[0]).toArray();
        double[] y = points.stream().mapToDouble(p -> p[1]).toArray();
        XYSeries s = chart.addSeries(label, x, y);
        if (points.size() > MAX_POINTS_WITH_MARKERS) {
            s.setMarker(SeriesMarkers.NONE);
        }
    }

    // ---------------------------------------------------------------------------------------------- accuracy

    /**
     * Top-1 accuracy of each model as a bar, labelled with its value, on a 0–100 % axis so that differences are
     * shown at their true size. Rows whose top-1 was not measured (NaN) are left out.
     *
     * @throws IllegalArgumentException when no row has a top-1 accuracy
     */
    public static Path accuracy(List<ModelRow> rows, Path file) {
        return accuracy(rows, "Top-1 accuracy", file);
    }

    /** As {@link #accuracy(List, Path)} with the chart's title given (the ablation's bars, for example). */
    public static Path accuracy(List<ModelRow> rows, String title, Path file) {
        List<String> names = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (ModelRow r : rows) {
            if (!Double.isNaN(r.top1())) {
                names.add(r.name());
                values.add(100 * r.top1());
            }
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException(file + ": none of the " + rows.size() + " models has a top-1 accuracy to plot");
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("model").yAxisTitle("top-1 accuracy (%)").build();
        style(chart.getStyler());
        chart.getStyler().setLegendVisible(false);
        // Long names (the ablation's rows) would run into each other under their bars: turn them then.
        chart.getStyler().setXAxisLabelRotation(labelsOverlap(names) ? LONG_LABEL_ROTATION : 0);
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsPosition(0.95);
        chart.getStyler().setLabelsFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        // XChart formats bar labels and axis ticks alike: one decimal on the bars (teacher and PELA are often within
        // a point of each other), none on the axis's round ticks.
        chart.getStyler().setyAxisTickLabelsFormattingFunction(
                v -> String.format(Locale.ROOT, v == Math.rint(v) ? "%.0f" : "%.1f", v));
        chart.getStyler().setSeriesColors(new Color[] {ACCURACY_COLOUR});
        chart.addSeries("top-1 %", names, values);
        return save(chart, file);
    }

    /** Whether the category names, side by side at about 8 px a character, need more than their bars' width. */
    static boolean labelsOverlap(List<String> names) {
        int longest = names.stream().mapToInt(String::length).max().orElse(0);
        return longest * PIXELS_PER_LABEL_CHAR > (WIDTH - 100) / Math.max(1, names.size());
    }

    // ---------------------------------------------------------------------------------------------- kappa sweep

    /**
     * The κ sweep: top-1 accuracy against the student's parameters, one line for the naive (SVD only) students and
     * one for the PELA students, each point a κ, with the teacher as a single point for reference. The y axis is
     * not forced to 0–100 %: the sweep is about the gaps between the lines, which a full axis would flatten.
     *
     * @throws IllegalArgumentException when there is no point, or a top-1 was not measured
     */
    public static Path kappaSweep(List<SweepPoint> points, ModelRow teacher, Path file) {
        if (points.isEmpty()) {
            throw new IllegalArgumentException(file + ": the kappa sweep has no point to plot");
        }
        List<SweepPoint> byParams = new ArrayList<>(points);
        byParams.sort(Comparator.comparingLong(p -> p.pela().params()));
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Top-1 accuracy against parameters (kappa = " + kappas(byParams) + ")")
                .xAxisTitle("parameters (M)").yAxisTitle("top-1 accuracy (%)").build();
        style(chart.getStyler());
        legendBelow(chart.getStyler());
        chart.getStyler().setXAxisDecimalPattern("0.000");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        addSweepLine(chart, "naive low-rank (SVD only)", byParams, SweepPoint::naive);
        addSweepLine(chart, "PELA", byParams, SweepPoint::pela);
        if (teacher != null && !Double.isNaN(teacher.top1())) {
            chart.addSeries("teacher", new double[] {teacher.paramsMillions()}, new double[] {100 * teacher.top1()});
        }
        return save(chart, file);
    }

    private static void addSweepLine(XYChart chart, String label, List<SweepPoint> points,
            Function<SweepPoint, ModelRow> model) {
        double[] x = new double[points.size()];
        double[] y = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            ModelRow m = model.apply(points.get(i));
            if (Double.isNaN(m.top1())) {
                throw new IllegalArgumentException(label + " at kappa " + trim(points.get(i).kappa())
                        + ": top-1 was not measured; the sweep cannot plot it");
            }
            x[i] = m.paramsMillions();
            y[i] = 100 * m.top1();
        }
        chart.addSeries(label, x, y);
    }

    private static String kappas(List<SweepPoint> points) {
        List<String> k = new ArrayList<>();
        points.forEach(p -> k.add(trim(p.kappa())));
        return String.join(", ", k);
    }

    // ---------------------------------------------------------------------------------------------- ranks

    /** The rank of every decomposed Linear, in the spec's order, without the full ranks. */
    public static Path ranks(LowRankSpec spec, Path file) {
        return drawRanks(spec, new ArrayList<>(spec.ranks().keySet()), null, file);
    }

    /**
     * The rank of every decomposed Linear beside its full rank min(d_in, d_out), in forward order. {@code model} is
     * the teacher's or the student's config; only its layout (the Linears' shapes) is used.
     *
     * @throws IllegalArgumentException when the spec names a Linear that the model does not have
     */
    public static Path ranks(LowRankSpec spec, ModelConfig model, Path file) {
        Map<String, Integer> fullRanks = new LinkedHashMap<>();
        for (LinearSpec l : VitLayout.linears(model)) {
            if (spec.isDecomposed(l.name())) {
                fullRanks.put(l.name(), Math.min(l.dIn(), l.dOut()));
            }
        }
        Set<String> unknown = new TreeSet<>(spec.ranks().keySet());
        unknown.removeAll(fullRanks.keySet());
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(file + ": the low-rank spec names Linears the model does not have: " + unknown);
        }
        return drawRanks(spec, new ArrayList<>(fullRanks.keySet()), fullRanks, file);
    }

    private static Path drawRanks(LowRankSpec spec, List<String> layers, Map<String, Integer> fullRanks, Path file) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(file + ": the low-rank spec decomposes no Linear; no ranks to plot");
        }
        int width = Math.max(WIDTH, 160 + PIXELS_PER_LAYER * layers.size());
        CategoryChart chart = new CategoryChartBuilder().width(width).height(HEIGHT)
                .title(String.format(Locale.ROOT, "Ranks of the student's Linears (kappa = %s)", trim(spec.kappa())))
                .xAxisTitle("Linear").yAxisTitle("rank").build();
        style(chart.getStyler());
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("#");
        chart.getStyler().setXAxisLabelRotation(layers.size() > 6 ? 90 : 0);
        legendBelow(chart.getStyler());
        List<Integer> ranks = layers.stream().map(spec::rank).toList();
        if (fullRanks != null) {
            // Overlapped, full rank first: each student bar stands inside the bar of the rank it was cut from.
            chart.getStyler().setOverlapped(true);
            chart.getStyler().setSeriesColors(new Color[] {FULL_RANK_COLOUR, RANK_COLOUR});
            chart.addSeries("full rank min(d_in, d_out)", layers, layers.stream().map(fullRanks::get).toList());
        } else {
            chart.getStyler().setSeriesColors(new Color[] {RANK_COLOUR});
        }
        chart.addSeries("student rank r", layers, ranks);
        return save(chart, file);
    }

    /** 2 stays "2", 1.5 "1.5"; a budget student's effective κ (e.g. 2.0203…) is cut to three decimals. */
    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v)
                : new java.math.BigDecimal(String.format(Locale.ROOT, "%.3f", v)).stripTrailingZeros().toPlainString();
    }

    // ---------------------------------------------------------------------------------------------- common

    /** A white, print-like look with fonts large enough to read when the report scales the image down. */
    private static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setPlotGridLinesColor(new Color(0xE2, 0xE8, 0xF0));
        s.setLegendBorderColor(new Color(0xCB, 0xD5, 0xE0));
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setChartTitleBoxVisible(false);
        s.setLocale(Locale.ROOT);
    }

    /** Below the plot, in one row: inside it, a legend hides the ends of the curves or the tops of the bars. */
    private static void legendBelow(AxesChartStyler s) {
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
    }

    private static Path save(Chart<?, ?> chart, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFile.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write chart: " + e.getMessage(), e);
        }
    }
}
