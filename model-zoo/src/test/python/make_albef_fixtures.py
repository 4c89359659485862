#!/usr/bin/env python3
"""Generates the ALBEF reference fixtures used by the Java tests (AlbefModelTest, AlbefLayoutTest).

Run from the repository root with Debian's Python (torch 1.13; transformers is not needed):

    /usr/bin/python3 model-zoo/src/test/python/make_albef_fixtures.py

Rewrites model-zoo/src/test/resources/fixtures/albef/ and nothing else. Deterministic (fixed seeds, float32,
CPU, one thread).

The model is ALBEF's pre-training model as PELA's released tree has it (guoyang9/PELA ALBEF/models/
model_pretrain.py, vit.py, xbert.py, which return the hidden states that L_fd distils), written out by hand in
plain PyTorch with the same module structure, so its state-dict keys are the real checkpoint's keys. Left out, as
in the Java model: the momentum encoders, the feature queues and momentum distillation (alpha = 0), and dropout
(eval mode). The MLM decoder is tied to the word embeddings, as in ALBEF (BertForMaskedLM ties them).
"""

import json
import math
import os
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import REPO_ROOT, check, max_abs, save_json, write_safetensors  # noqa: E402

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

OUT_DIR = os.path.join(REPO_ROOT, "model-zoo", "src", "test", "resources", "fixtures", "albef")

OMIT = ["cls", "_proj"]   # PELA ALBEF/params.py --name_omit
KAPPA = 3                 # PELA's released compression ratio for ALBEF
ALPHA, BETA, RWP_EPS = 0.1, 1.0, 1e-3   # PELA's ALBEF Pretrain.py: 0.1 * loss_kd + loss_norm, inf_norm eps 1e-3

# A tiny ALBEF with every structural feature of the real one: 2 ViT blocks, 2 text + 2 fusion BERT layers.
TINY = OrderedDict([
    ("architecture", "albef"),
    ("vision", OrderedDict([("img_size", 32), ("patch_size", 8), ("in_chans", 3), ("embed_dim", 32), ("depth", 2),
                            ("num_heads", 4), ("mlp_ratio", 4.0), ("qkv_bias", True)])),
    ("bert_config", OrderedDict([("vocab_size", 120), ("hidden_size", 32), ("num_hidden_layers", 4),
                                 ("num_attention_heads", 4), ("intermediate_size", 128), ("hidden_act", "gelu"),
                                 ("max_position_embeddings", 16), ("type_vocab_size", 2), ("layer_norm_eps", 1e-12),
                                 ("pad_token_id", 0), ("fusion_layer", 2), ("encoder_width", 32)])),
    ("embed_dim", 16),
    ("temp", 0.07),
])
# albef_base: ViT-B/16 at 224 (ALBEF pre-trains at 256 and fine-tunes at 384; only pos_embed changes) and
# configs/config_bert.json of ALBEF.
BASE = OrderedDict([
    ("architecture", "albef_base"),
    ("vision", OrderedDict([("img_size", 224), ("patch_size", 16), ("in_chans", 3), ("embed_dim", 768), ("depth", 12),
                            ("num_heads", 12), ("mlp_ratio", 4.0), ("qkv_bias", True)])),
    ("bert_config", OrderedDict([("vocab_size", 30522), ("hidden_size", 768), ("num_hidden_layers", 12),
                                 ("num_attention_heads", 12), ("intermediate_size", 3072), ("hidden_act", "gelu"),
                                 ("max_position_embeddings", 512), ("type_vocab_size", 2), ("layer_norm_eps", 1e-12),
                                 ("pad_token_id", 0), ("fusion_layer", 6), ("encoder_width", 768)])),
    ("embed_dim", 256),
    ("temp", 0.07),
])
PAD, CLS, SEP, MASK = 0, 1, 2, 3   # the tiny vocabulary's special tokens


# --------------------------------------------------------------------------------------
# ALBEF's ViT (models/vit.py): timm names, LayerNorm eps 1e-6, returns (normed tokens, hidden states)
# --------------------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    def __init__(self, v, dev):
        super().__init__()
        self.num_patches = (v["img_size"] // v["patch_size"]) ** 2
        self.proj = nn.Conv2d(v["in_chans"], v["embed_dim"], v["patch_size"], v["patch_size"], device=dev)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VitAttention(nn.Module):
    def __init__(self, dim, heads, qkv_bias, dev):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias, device=dev)
        self.proj = nn.Linear(dim, dim, device=dev)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class VitMlp(nn.Module):
    def __init__(self, dim, hidden, dev):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, device=dev)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim, device=dev)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class VitBlock(nn.Module):
    def __init__(self, v, dev):
        super().__init__()
        d = v["embed_dim"]
        self.norm1 = nn.LayerNorm(d, eps=1e-6, device=dev)
        self.attn = VitAttention(d, v["num_heads"], v["qkv_bias"], dev)
        self.norm2 = nn.LayerNorm(d, eps=1e-6, device=dev)
        self.mlp = VitMlp(d, int(d * v["mlp_ratio"]), dev)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, v, dev):
        super().__init__()
        d = v["embed_dim"]
        self.patch_embed = PatchEmbed(v, dev)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d, device=dev))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, d, device=dev))
        self.blocks = nn.ModuleList([VitBlock(v, dev) for _ in range(v["depth"])])
        self.norm = nn.LayerNorm(d, eps=1e-6, device=dev)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.pos_embed[:, :x.size(1), :]
        outputs = [x]
        for blk in self.blocks:
            x = blk(x)
            outputs.append(x)
        return self.norm(x), outputs


# --------------------------------------------------------------------------------------
# ALBEF's BERT (models/xbert.py): HF names, LayerNorm eps 1e-12, erf GELU, cross-attention from fusion_layer on
# --------------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c["pad_token_id"], device=dev)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h, device=dev)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h, device=dev)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"], device=dev)
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"], device=dev).expand((1, -1)))

    def forward(self, input_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        token_type_ids = torch.zeros(input_ids.size(), dtype=torch.long)   # ALBEF passes none: all type 0
        emb = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        emb = emb + self.position_embeddings(position_ids)
        return self.LayerNorm(emb)


class BertSelfAttention(nn.Module):
    def __init__(self, c, is_cross_attention, dev):
        super().__init__()
        h = c["hidden_size"]
        self.num_attention_heads = c["num_attention_heads"]
        self.attention_head_size = h // self.num_attention_heads
        kv_in = c["encoder_width"] if is_cross_attention else h
        self.query = nn.Linear(h, h, device=dev)
        self.key = nn.Linear(kv_in, h, device=dev)
        self.value = nn.Linear(kv_in, h, device=dev)

    def transpose_for_scores(self, x):
        return x.view(x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask, encoder_hidden_states=None):
        if encoder_hidden_states is not None:
            # image tokens are never padded: ALBEF's image_atts are all ones, so the encoder mask adds 0
            key_layer = self.transpose_for_scores(self.key(encoder_hidden_states))
            value_layer = self.transpose_for_scores(self.value(encoder_hidden_states))
            attention_mask = None
        else:
            key_layer = self.transpose_for_scores(self.key(hidden_states))
            value_layer = self.transpose_for_scores(self.value(hidden_states))
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            scores = scores + attention_mask
        probs = nn.Softmax(dim=-1)(scores)
        context = torch.matmul(probs, value_layer).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.num_attention_heads * self.attention_head_size,))


class BertSelfOutput(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"], device=dev)
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"], device=dev)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, c, dev, is_cross_attention=False):
        super().__init__()
        self.self = BertSelfAttention(c, is_cross_attention, dev)
        self.output = BertSelfOutput(c, dev)

    def forward(self, hidden_states, attention_mask, encoder_hidden_states=None):
        return self.output(self.self(hidden_states, attention_mask, encoder_hidden_states), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"], device=dev)

    def forward(self, hidden_states):
        return F.gelu(self.dense(hidden_states))   # HF ACT2FN["gelu"]: the exact erf form


class BertOutput(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"], device=dev)
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"], device=dev)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, c, layer_num, dev):
        super().__init__()
        self.attention = BertAttention(c, dev)
        self.has_cross_attention = layer_num >= c["fusion_layer"]
        if self.has_cross_attention:
            self.crossattention = BertAttention(c, dev, is_cross_attention=True)
        self.intermediate = BertIntermediate(c, dev)
        self.output = BertOutput(c, dev)

    def forward(self, hidden_states, attention_mask, encoder_hidden_states=None):
        attention_output = self.attention(hidden_states, attention_mask)
        if self.has_cross_attention:
            assert encoder_hidden_states is not None
            attention_output = self.crossattention(attention_output, attention_mask, encoder_hidden_states)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.c = c
        self.layer = nn.ModuleList([BertLayer(c, i, dev) for i in range(c["num_hidden_layers"])])

    def forward(self, hidden_states, attention_mask, encoder_hidden_states, mode):
        start, end = {"text": (0, self.c["fusion_layer"]),
                      "fusion": (self.c["fusion_layer"], self.c["num_hidden_layers"]),
                      "multi_modal": (0, self.c["num_hidden_layers"])}[mode]
        all_hidden_states = []
        for i in range(start, end):
            all_hidden_states.append(hidden_states)
            hidden_states = self.layer[i](hidden_states, attention_mask, encoder_hidden_states)
        all_hidden_states.append(hidden_states)
        return hidden_states, all_hidden_states


class BertModel(nn.Module):
    """xbert.BertModel with add_pooling_layer=False, as ALBEF's BertForMaskedLM builds it."""

    def __init__(self, c, dev):
        super().__init__()
        self.embeddings = BertEmbeddings(c, dev)
        self.encoder = BertEncoder(c, dev)

    def forward(self, input_ids=None, attention_mask=None, encoder_embeds=None, encoder_hidden_states=None,
                mode="multi_modal"):
        # HF get_extended_attention_mask: [B, 1, 1, L], 0 where attended, -10000 at padding
        extended = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        embedding_output = encoder_embeds if encoder_embeds is not None else self.embeddings(input_ids)
        return self.encoder(embedding_output, extended, encoder_hidden_states, mode)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"], device=dev)
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"], device=dev)

    def forward(self, hidden_states):
        return self.LayerNorm(F.gelu(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c, dev)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False, device=dev)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"], device=dev))
        self.decoder.bias = self.bias

    def forward(self, hidden_states):
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.predictions = BertLMPredictionHead(c, dev)

    def forward(self, sequence_output):
        return self.predictions(sequence_output)


class BertForMaskedLM(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.c = c
        self.bert = BertModel(c, dev)
        self.cls = BertOnlyMLMHead(c, dev)
        # HF tie_weights(): the decoder *is* the word-embedding matrix
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, encoder_hidden_states, labels):
        sequence_output, hidden_states = self.bert(input_ids, attention_mask,
                                                   encoder_hidden_states=encoder_hidden_states, mode="multi_modal")
        prediction_scores = self.cls(sequence_output)
        loss = nn.CrossEntropyLoss()(prediction_scores.view(-1, self.c["vocab_size"]), labels.view(-1))  # -100 ignored
        return loss, prediction_scores, hidden_states


class ALBEF(nn.Module):
    def __init__(self, cfg, dev=None):
        super().__init__()
        c = cfg["bert_config"]
        self.visual_encoder = VisionTransformer(cfg["vision"], dev)
        self.text_encoder = BertForMaskedLM(c, dev)
        self.vision_proj = nn.Linear(cfg["vision"]["embed_dim"], cfg["embed_dim"], device=dev)
        self.text_proj = nn.Linear(c["hidden_size"], cfg["embed_dim"], device=dev)
        self.temp = nn.Parameter(torch.ones([], device=dev) * cfg["temp"])
        self.itm_head = nn.Linear(c["hidden_size"], 2, device=dev)

    def forward(self, image, input_ids, attention_mask, mlm_input_ids, mlm_labels, neg_image_idx, neg_text_idx):
        with torch.no_grad():
            self.temp.clamp_(0.001, 0.5)
        image_embeds, image_out = self.visual_encoder(image)
        image_feat = F.normalize(self.vision_proj(image_embeds[:, 0, :]), dim=-1)
        text_embeds, text_out = self.text_encoder.bert(input_ids, attention_mask, mode="text")
        text_feat = F.normalize(self.text_proj(text_embeds[:, 0, :]), dim=-1)

        sim_i2t = image_feat @ text_feat.t() / self.temp
        sim_t2i = text_feat @ image_feat.t() / self.temp
        sim_targets = torch.zeros(sim_i2t.size())
        sim_targets.fill_diagonal_(1)
        loss_i2t = -torch.sum(F.log_softmax(sim_i2t, dim=1) * sim_targets, dim=1).mean()
        loss_t2i = -torch.sum(F.log_softmax(sim_t2i, dim=1) * sim_targets, dim=1).mean()
        loss_itc = (loss_i2t + loss_t2i) / 2

        bs = image.size(0)
        output_pos, _ = self.text_encoder.bert(encoder_embeds=text_embeds, attention_mask=attention_mask,
                                               encoder_hidden_states=image_embeds, mode="fusion")
        image_embeds_neg = image_embeds[neg_image_idx]          # a hard negative image for each text
        text_embeds_neg = text_embeds[neg_text_idx]             # a hard negative text for each image
        text_atts_neg = attention_mask[neg_text_idx]
        text_embeds_all = torch.cat([text_embeds, text_embeds_neg], dim=0)
        text_atts_all = torch.cat([attention_mask, text_atts_neg], dim=0)
        image_embeds_all = torch.cat([image_embeds_neg, image_embeds], dim=0)
        output_neg, _ = self.text_encoder.bert(encoder_embeds=text_embeds_all, attention_mask=text_atts_all,
                                               encoder_hidden_states=image_embeds_all, mode="fusion")
        vl_embeddings = torch.cat([output_pos[:, 0, :], output_neg[:, 0, :]], dim=0)
        vl_output = self.itm_head(vl_embeddings)
        itm_labels = torch.cat([torch.ones(bs, dtype=torch.long), torch.zeros(2 * bs, dtype=torch.long)], dim=0)
        loss_itm = F.cross_entropy(vl_output, itm_labels)

        loss_mlm, mlm_logits, text_mlm_out = self.text_encoder(mlm_input_ids, attention_mask, image_embeds, mlm_labels)
        return OrderedDict([
            ("loss_itc", loss_itc), ("loss_itm", loss_itm), ("loss_mlm", loss_mlm),
            ("image_feat", image_feat), ("text_feat", text_feat), ("sim_i2t", sim_i2t), ("sim_t2i", sim_t2i),
            ("itm_logits", vl_output), ("mlm_logits", mlm_logits),
            ("image_out", image_out), ("text_out", text_out), ("text_mlm_out", text_mlm_out),
        ])


# --------------------------------------------------------------------------------------
# Sampling and masking, as ALBEF does them (here with a private generator)
# --------------------------------------------------------------------------------------

def hard_negatives(sim, g):
    """For each row, one column drawn from softmax(row) with the diagonal zeroed (ALBEF's ITM sampling)."""
    with torch.no_grad():
        weights = F.softmax(sim, dim=1)
        weights.fill_diagonal_(0)
        return torch.stack([torch.multinomial(weights[b], 1, generator=g)[0] for b in range(sim.size(0))])


def mlm_mask(input_ids, vocab_size, g, probability=0.15):
    """ALBEF's mask(): 15 % of the non-pad, non-CLS tokens; of those 80 % [MASK], 10 % random, 10 % kept."""
    input_ids = input_ids.clone()
    labels = input_ids.clone()
    masked = torch.bernoulli(torch.full(labels.shape, probability), generator=g).bool()
    masked[input_ids == PAD] = False
    masked[input_ids == CLS] = False
    labels[~masked] = -100
    replaced = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=g).bool() & masked
    input_ids[replaced] = MASK
    random_ = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=g).bool() & masked & ~replaced
    words = torch.randint(vocab_size, input_ids.shape, dtype=torch.long, generator=g)
    input_ids[random_] = words[random_]
    return input_ids, labels


# --------------------------------------------------------------------------------------
# PELA low-rank surgery on ALBEF (ALBEF/models/low_rank.py: ModuleLowRank), with the SVD split of the Java side
# --------------------------------------------------------------------------------------

def pela_rank(d_in, d_out, kappa):
    return max(1, min(math.floor(d_in * d_out / (kappa * (d_in + d_out))), d_in, d_out))


def lowrank_plan(model, kappa, omit):
    """ModuleLowRank's walk: every nn.Linear whose name has no omit string and whose out_features >= 10."""
    ranks = OrderedDict()
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and not any(o in name for o in omit) and mod.out_features >= 10:
            ranks[name] = pela_rank(mod.in_features, mod.out_features, kappa)
    return ranks


def decompose(model, ranks, svd):
    """Replaces each planned Linear by Sequential(Linear(d_in, r, no bias), Linear(r, d_out)) in a copy."""
    import copy
    model = copy.deepcopy(model)
    for name, r in ranks.items():
        parent_name, _, local = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        lin = getattr(parent, local)
        dev = lin.weight.device
        l0 = nn.Linear(lin.in_features, r, bias=False, device=dev)
        l1 = nn.Linear(r, lin.out_features, bias=lin.bias is not None, device=dev)
        if svd:
            W = lin.weight.detach().double()                      # [d_out, d_in]
            U, S, Vh = torch.linalg.svd(W.T, full_matrices=False)
            sq = S[:r].sqrt()
            with torch.no_grad():
                l0.weight.copy_((U[:, :r] * sq).T.float())          # [r, d_in]
                l1.weight.copy_((sq[:, None] * Vh[:r, :]).T.float())  # [d_out, r]
                if lin.bias is not None:
                    l1.bias.copy_(lin.bias)
        setattr(parent, local, nn.Sequential(l0, l1))
    return model


def rwp_code(teacher, student, eps):
    """PELA's inf_norm: mean over decomposed Linears of (max|W1 W0 - W| - eps)^2 (teacher weights constant)."""
    s = dict(student.named_parameters())
    terms = []
    for name, w in teacher.named_parameters():
        if name.endswith(".weight") and name.replace(".weight", ".0.weight") in s:
            rebuild = s[name.replace(".weight", ".1.weight")] @ s[name.replace(".weight", ".0.weight")]
            terms.append((torch.norm(rebuild - w.detach(), float("inf")) - eps) ** 2)
    return torch.stack(terms).mean()


def feature_distillation(out_s, out_t):
    """PELA's loss_kd: the mean over every (student, teacher) hidden-state pair of F.mse_loss."""
    terms = [F.mse_loss(s, t.detach()) for key in ("image_out", "text_out", "text_mlm_out")
             for s, t in zip(out_s[key], out_t[key])]
    return torch.stack(terms).mean(), len(terms)


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------

def init_weights(model, seed):
    """Random weights with O(1) activations everywhere (the pretrained statistics do not matter for a test)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "temp":
                continue
            if "LayerNorm" in name or "norm" in name.split(".")[-2]:
                p.copy_((1.0 + 0.1 * torch.randn(p.shape, generator=g)) if name.endswith("weight")
                        else 0.05 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name or name.endswith(("cls_token", "pos_embed")):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_((0.15 * torch.randn(p.shape, generator=g)).clamp(-0.3, 0.3))


def make_batch(cfg, seed, batch=4, length=8):
    g = torch.Generator().manual_seed(seed)
    v, c = cfg["vision"], cfg["bert_config"]
    image = torch.randn(batch, v["in_chans"], v["img_size"], v["img_size"], generator=g)
    lengths = [8, 6, 5, 7][:batch]   # real tokens per caption, [CLS] ... [SEP], then padding
    ids = torch.full((batch, length), PAD, dtype=torch.long)
    mask = torch.zeros(batch, length, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, 0] = CLS
        ids[b, 1:n - 1] = torch.randint(4, c["vocab_size"], (n - 2,), generator=g)
        ids[b, n - 1] = SEP
        mask[b, :n] = 1
    while True:   # redraw until a few tokens are masked (15 % of 22 tokens can be none)
        mlm_ids, mlm_labels = mlm_mask(ids, c["vocab_size"], g)
        if (mlm_labels != -100).sum() >= 4:
            return image, ids, mask, mlm_ids, mlm_labels, g


def flat_outputs(out):
    t = OrderedDict()
    for k, v in out.items():
        if isinstance(v, list):
            for i, h in enumerate(v):
                t[f"{k}.{i}"] = h
        else:
            t[k] = v.reshape(1) if v.dim() == 0 else v
    return OrderedDict((k, v.detach().contiguous()) for k, v in t.items())


TEACHER_GRADS = [
    "temp", "visual_encoder.cls_token", "visual_encoder.pos_embed", "visual_encoder.blocks.0.attn.qkv.weight",
    "visual_encoder.blocks.1.mlp.fc2.bias", "text_encoder.bert.embeddings.word_embeddings.weight",
    "text_encoder.bert.embeddings.position_embeddings.weight",
    "text_encoder.bert.encoder.layer.0.attention.self.query.weight",
    "text_encoder.bert.encoder.layer.2.crossattention.self.key.weight",
    "text_encoder.bert.encoder.layer.3.output.LayerNorm.weight", "text_encoder.cls.predictions.bias",
    "text_encoder.cls.predictions.transform.dense.weight", "vision_proj.weight", "text_proj.bias", "itm_head.weight",
]
STUDENT_GRADS = [
    "temp", "visual_encoder.blocks.1.mlp.fc1.0.weight", "visual_encoder.blocks.1.mlp.fc1.1.weight",
    "visual_encoder.blocks.0.attn.qkv.1.bias", "text_encoder.bert.embeddings.word_embeddings.weight",
    "text_encoder.bert.encoder.layer.1.attention.self.value.0.weight",
    "text_encoder.bert.encoder.layer.3.crossattention.self.value.1.weight", "itm_head.weight",
]


def gen_tiny():
    cfg = TINY
    teacher = ALBEF(cfg)
    teacher.eval()
    init_weights(teacher, seed=7)
    image, ids, mask, mlm_ids, mlm_labels, g = make_batch(cfg, seed=11)

    with torch.no_grad():
        probe = teacher(image, ids, mask, mlm_ids, mlm_labels, torch.zeros(4, dtype=torch.long),
                        torch.zeros(4, dtype=torch.long))
    neg_image = hard_negatives(probe["sim_t2i"], g)   # for each text, an image
    neg_text = hard_negatives(probe["sim_i2t"], g)    # for each image, a text
    assert all(neg_image[b] != b and neg_text[b] != b for b in range(4))

    out = teacher(image, ids, mask, mlm_ids, mlm_labels, neg_image, neg_text)
    check(max_abs(out["sim_t2i"], out["sim_i2t"].t()), 1e-6, "sim_t2i is sim_i2t transposed")
    loss = out["loss_itc"] + out["loss_itm"] + out["loss_mlm"]
    teacher.zero_grad()
    loss.backward()
    params = dict(teacher.named_parameters())
    t_grads = OrderedDict((f"grad.{k}", params[k].grad.detach().clone().reshape(params[k].shape or (1,)))
                          for k in TEACHER_GRADS)
    print(f"  teacher: itc {out['loss_itc'].item():.6f} itm {out['loss_itm'].item():.6f} "
          f"mlm {out['loss_mlm'].item():.6f}")

    ranks = lowrank_plan(teacher, KAPPA, OMIT)
    student = decompose(teacher, ranks, svd=True)
    out_s = student(image, ids, mask, mlm_ids, mlm_labels, neg_image, neg_text)
    fd, n_feats = feature_distillation(out_s, out)
    rwp = rwp_code(teacher, student, RWP_EPS)
    base_s = out_s["loss_itc"] + out_s["loss_itm"] + out_s["loss_mlm"]
    total_s = base_s + ALPHA * fd + BETA * rwp
    student.zero_grad()
    total_s.backward()
    sparams = dict(student.named_parameters())
    s_grads = OrderedDict((f"grad.{k}", sparams[k].grad.detach().clone().reshape(sparams[k].shape or (1,)))
                          for k in STUDENT_GRADS)
    print(f"  student k={KAPPA}: {len(ranks)} Linears decomposed, base {base_s.item():.6f} fd {fd.item():.6f} "
          f"({n_feats} hidden states) rwp {rwp.item():.6e}")

    os.makedirs(OUT_DIR)
    save_json(os.path.join(OUT_DIR, "config.json"), cfg)
    student_cfg = OrderedDict(cfg)
    student_cfg["lowrank"] = OrderedDict([("kappa", KAPPA), ("omit", OMIT), ("ranks", ranks)])
    save_json(os.path.join(OUT_DIR, "student_config.json"), student_cfg)

    # The teacher's state_dict as PyTorch writes it: tied aliases (cls.predictions.decoder.*) included, the int64
    # position_ids buffer left out (the hand-written safetensors writer stores floats only).
    sd = OrderedDict((k, v.detach().clone().contiguous()) for k, v in teacher.state_dict().items()
                     if not k.endswith("position_ids"))
    sd["temp"] = sd["temp"].reshape(())
    write_safetensors(os.path.join(OUT_DIR, "model.safetensors"), sd)
    ssd = student.state_dict()
    factors = OrderedDict((k, v.detach().clone().contiguous()) for k, v in ssd.items()
                          if k.rsplit(".", 2)[0] in ranks and k not in sd)
    write_safetensors(os.path.join(OUT_DIR, "student_factors.safetensors"), factors)

    for name, t in (("image", image.float()), ("input_ids", ids), ("attention_mask", mask), ("mlm_input_ids", mlm_ids),
                    ("mlm_labels", mlm_labels), ("neg_image_idx", neg_image), ("neg_text_idx", neg_text)):
        np.save(os.path.join(OUT_DIR, name + ".npy"), np.ascontiguousarray(t.numpy()))

    outputs = flat_outputs(out)
    outputs["loss_base"] = loss.detach().reshape(1)
    outputs.update(t_grads)
    write_safetensors(os.path.join(OUT_DIR, "outputs.safetensors"), outputs)

    s_out = OrderedDict()
    for k in ("loss_itc", "loss_itm", "loss_mlm"):
        s_out[k] = out_s[k].detach().reshape(1)
    s_out["loss_fd"] = fd.detach().reshape(1)
    s_out["loss_rwp"] = rwp.detach().reshape(1)
    s_out["loss_total"] = total_s.detach().reshape(1)
    s_out["alpha"] = torch.tensor([ALPHA])
    s_out["beta"] = torch.tensor([BETA])
    s_out["rwp_eps"] = torch.tensor([RWP_EPS])
    s_out.update(s_grads)
    write_safetensors(os.path.join(OUT_DIR, "student_outputs.safetensors"), s_out)


def gen_base_layout():
    """albef_base built on the meta device: its state-dict keys and shapes and PELA's κ=3 plan, no weights."""
    model = ALBEF(BASE, dev="meta")
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    params = sum(p.numel() for p in model.parameters())   # parameters() counts the tied decoder weight once
    ranks = lowrank_plan(model, KAPPA, OMIT)
    student = decompose(model, ranks, svd=False)
    s_params = sum(p.numel() for p in student.parameters())
    vision = sum(p.numel() for p in model.visual_encoder.parameters())
    mlm_head = sum(p.numel() for n, p in model.text_encoder.cls.named_parameters() if "decoder.weight" not in n)
    print(f"  albef_base: {params:,} parameters (ViT {vision:,}, MLM head {mlm_head:,}); "
          f"kappa={KAPPA}: {len(ranks)} Linears decomposed, {s_params:,} parameters")
    save_json(os.path.join(OUT_DIR, "albef_base_layout.json"), OrderedDict([
        ("config", BASE), ("state_dict", keys), ("parameters", params),
        ("lowrank", OrderedDict([("kappa", KAPPA), ("omit", OMIT), ("ranks", ranks), ("parameters", s_params)])),
    ]))


README = """# ALBEF fixtures (written by make_albef_fixtures.py; do not edit)

A tiny ALBEF with ALBEF's module structure (ViT 32 px / patch 8 / dim 32 / 2 blocks; BERT hidden 32, 4 heads,
vocabulary 120, layers 0-1 text, 2-3 fusion; embed_dim 16; temp 0.07), random weights (seed 7), one batch of 4
image-caption pairs of length 8 (specials: pad 0, [CLS] 1, [SEP] 2, [MASK] 3), negatives drawn as ALBEF draws them.

* `config.json`, `student_config.json`: the ALBEF config.json form (vision / bert_config / embed_dim / temp), the
  student's with its `lowrank` block (kappa 3, omit cls and _proj, 40 ranks).
* `model.safetensors`: the teacher's state_dict as PyTorch gives it, tied aliases `text_encoder.cls.predictions.
  decoder.{weight,bias}` included, the int64 `position_ids` buffer left out; `temp` is 0-d.
* `student_factors.safetensors`: the student's `P.0.weight`, `P.1.weight`, `P.1.bias` (float64 SVD, sqrt(S) on both
  sides); every other student tensor is the teacher's.
* `image.npy` [4,3,32,32] f32, `input_ids.npy`, `attention_mask.npy`, `mlm_input_ids.npy`, `mlm_labels.npy` [4,8] i64
  (labels -100 where not masked), `neg_image_idx.npy`, `neg_text_idx.npy` [4] i64.
* `outputs.safetensors` (teacher): `loss_itc`, `loss_itm`, `loss_mlm`, `loss_base` [1]; `image_feat`, `text_feat`
  [4,16]; `sim_i2t`, `sim_t2i` [4,4]; `itm_logits` [12,2]; `mlm_logits` [4,8,120]; hidden states `image_out.{0..2}`
  [4,17,32], `text_out.{0..2}` [4,8,32], `text_mlm_out.{0..4}` [4,8,32]; `grad.<key>` gradients of loss_base.
* `student_outputs.safetensors`: the student's `loss_itc/itm/mlm`, `loss_fd` (mean MSE over the 11 hidden-state
  pairs, teacher detached), `loss_rwp` (mean (max|W1 W0 - W| - eps)^2), `loss_total` = base + alpha fd + beta rwp,
  `alpha` 0.1, `beta` 1, `rwp_eps` 1e-3, and `grad.<key>` gradients of loss_total.
* `albef_base_layout.json`: albef_base built on the meta device: its state_dict keys and shapes, parameter count
  (tied decoder counted once) and PELA's ModuleLowRank plan at kappa 3 with the student's parameter count.
"""


def main():
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    print(f"torch {torch.__version__}, writing to {OUT_DIR}")
    gen_tiny()
    gen_base_layout()
    with open(os.path.join(OUT_DIR, "README.md"), "w") as f:
        f.write(README)
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"total fixture size: {total} bytes ({total / 1024:.1f} KiB)")
    assert total < 1024 * 1024, "ALBEF fixtures must stay under 1 MiB"


if __name__ == "__main__":
    sys.exit(main())
