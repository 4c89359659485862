package ai.pela.zoo.dense;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The dense heads' training losses as SameDiff sub-graphs. Targets enter as placeholders computed on the executor
 * (one-hot rows, masks), so the graph is static and no gather or sort is differentiated.
 */
final class DenseLosses {
    static final String SEG_TARGETS = "seg.targets";
    static final String FCOS_CLS_T = "fcos.t.cls";
    static final String FCOS_REG_T = "fcos.t.reg";
    static final String FCOS_CTR_T = "fcos.t.ctr";
    static final String FCOS_POS = "fcos.t.pos";
    /** mmdet's GIoU / IoU eps. */
    static final double EPS = 1e-6;

    private DenseLosses() {
    }

    /**
     * Pixel cross-entropy averaged over labelled pixels: {@code F.cross_entropy(logits, labels, ignore_index=255)}
     * (mmseg's loss with avg_non_ignore; mmseg's older default also divides by ignored pixels, which only rescales
     * the loss by the labelled fraction of each batch).
     *
     * @return the loss; the placeholder {@value #SEG_TARGETS} [N·H·W, classes] holds one-hot rows in NHW order and
     *     zero rows for ignored pixels
     */
    static SDVariable segmentation(SameDiff sd, String name, Fmap logits) {
        SDVariable targets = sd.placeHolder(SEG_TARGETS, DataType.FLOAT, -1, logits.c());
        SDVariable rows = sd.reshape(sd.permute(logits.v(), 0, 2, 3, 1), -1, logits.c());
        // The log-softmax over the last axis: the overload with an axis fails to clone for backprop in M2.1.
        SDVariable logp = sd.nn().logSoftmax(rows);
        SDVariable labelled = sd.math().max(targets.sum(), sd.constant(1.0f));
        return sd.math().neg(targets.mul(logp).sum()).div(labelled).rename(name);
    }

    /** The three FCOS terms and their sum, named {@code prefix + ".cls" / ".bbox" / ".centerness"} and {@code prefix}. */
    static SDVariable fcos(SameDiff sd, String prefix, Fcos.Outputs out, int classes, double alpha, double gamma) {
        SDVariable clsT = sd.placeHolder(FCOS_CLS_T, DataType.FLOAT, -1, classes);
        SDVariable regT = sd.placeHolder(FCOS_REG_T, DataType.FLOAT, -1, 4);
        SDVariable ctrT = sd.placeHolder(FCOS_CTR_T, DataType.FLOAT, -1, 1);
        SDVariable pos = sd.placeHolder(FCOS_POS, DataType.FLOAT, -1, 1);
        SDVariable numPos = sd.math().max(pos.sum(), sd.constant(1.0f));
        SDVariable cls = focal(sd, out.cls(), clsT, alpha, gamma).sum().div(numPos).rename(prefix + ".cls");
        SDVariable weight = ctrT.mul(pos);
        SDVariable denom = sd.math().max(weight.sum(), sd.constant((float) EPS));
        SDVariable giou = giou(sd, out.reg(), regT);
        SDVariable box = weight.mul(giou.rsub(1.0)).sum().div(denom).rename(prefix + ".bbox");
        SDVariable ctr = bceWithLogits(sd, out.ctr(), ctrT).mul(pos).sum().div(numPos).rename(prefix + ".centerness");
        return cls.add(box).add(ctr).rename(prefix);
    }

    /** mmdet's sigmoid focal loss per element: BCE · (α·t + (1−α)(1−t)) · |t − σ(x)|^γ. */
    static SDVariable focal(SameDiff sd, SDVariable x, SDVariable t, double alpha, double gamma) {
        SDVariable p = sd.nn().sigmoid(x);
        SDVariable pt = p.rsub(1.0).mul(t).add(p.mul(t.rsub(1.0)));
        SDVariable ptg = gamma == 2.0 ? pt.mul(pt) : sd.math().pow(pt, gamma);
        SDVariable w = t.mul(alpha).add(t.rsub(1.0).mul(1 - alpha)).mul(ptg);
        return bceWithLogits(sd, x, t).mul(w);
    }

    /** Stable binary cross-entropy with logits: max(x, 0) − x·t + log(1 + exp(−|x|)). */
    static SDVariable bceWithLogits(SameDiff sd, SDVariable x, SDVariable t) {
        SDVariable softplus = sd.math().log(sd.math().exp(sd.math().abs(x).neg()).add(1.0));
        return sd.nn().relu(x, 0).sub(x.mul(t)).add(softplus);
    }

    /**
     * GIoU [P, 1] of boxes given as (l, t, r, b) distances from a common point (the point cancels, so the boxes
     * need not be decoded): overlap and enclosure extents are sums of minima and maxima of the distances.
     * Union and enclosure are clamped at eps as mmdet's bbox_overlaps does.
     */
    static SDVariable giou(SameDiff sd, SDVariable p, SDVariable t) {
        SDVariable pw = col(p, 0).add(col(p, 2));
        SDVariable ph = col(p, 1).add(col(p, 3));
        SDVariable tw = col(t, 0).add(col(t, 2));
        SDVariable th = col(t, 1).add(col(t, 3));
        SDVariable iw = sd.math().min(col(p, 0), col(t, 0)).add(sd.math().min(col(p, 2), col(t, 2)));
        SDVariable ih = sd.math().min(col(p, 1), col(t, 1)).add(sd.math().min(col(p, 3), col(t, 3)));
        SDVariable overlap = sd.nn().relu(iw, 0).mul(sd.nn().relu(ih, 0));
        SDVariable eps = sd.constant((float) EPS);
        SDVariable union = sd.math().max(pw.mul(ph).add(tw.mul(th)).sub(overlap), eps);
        SDVariable ew = sd.math().max(col(p, 0), col(t, 0)).add(sd.math().max(col(p, 2), col(t, 2)));
        SDVariable eh = sd.math().max(col(p, 1), col(t, 1)).add(sd.math().max(col(p, 3), col(t, 3)));
        SDVariable enclose = sd.math().max(ew.mul(eh), eps);
        return overlap.div(union).sub(enclose.sub(union).div(enclose));
    }

    private static SDVariable col(SDVariable x, int i) {
        return x.get(org.nd4j.autodiff.samediff.SDIndex.all(), org.nd4j.autodiff.samediff.SDIndex.interval(i, i + 1));
    }
}
