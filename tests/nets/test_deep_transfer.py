"""Deep models and partial parameter transfer, checked tensor by tensor (tiny widths, CPU)."""

import math

import pytest
import torch
import torchvision

from nets.deep_models import (
    build_model,
    load_state_dict_file,
    timm_vit_to_torchvision,
)
from nets.deep_transfer import transfer_parameters, vit_blocks


def _perturbed(model, seed=123):
    """Give every float tensor of ``model`` values distinct from any fresh initialisation."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.randn(t.shape, generator=g) + 3.0)
    return model


def _snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _pair(up_arch, down_arch, width=4, **kw):
    up = _perturbed(build_model(up_arch, 6, width=width, image_size=8, seed=1, **kw))
    down = build_model(down_arch, 2, width=width, image_size=8, seed=2, **kw)
    return up, down, _snapshot(down)


@pytest.mark.parametrize("arch", ["resnet34", "resnet50"])
def test_full_width_imagenet_stem_matches_torchvision(arch):
    ours = build_model(arch, 1000, stem="imagenet")
    ref = getattr(torchvision.models, arch)()
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in ref.state_dict().items()}
    ours.load_state_dict(ref.state_dict())  # torchvision checkpoints load unchanged


def test_cifar_stem_forward_shapes():
    x = torch.zeros(2, 3, 8, 8)
    for arch in ("resnet34", "resnet101", "vgg11", "vgg16"):
        m = build_model(arch, 5, width=8, image_size=8).eval()
        assert m(x).shape == (2, 5), arch
    assert build_model("resnet34", 3, width=8).conv1.kernel_size == (3, 3)
    assert isinstance(build_model("resnet34", 3, width=8).maxpool, torch.nn.Identity)
    v = build_model("deit_tiny", 5, width=16, image_size=8, patch_size=2).eval()
    assert v(x).shape == (2, 5)


def test_same_seed_same_init_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a = build_model("resnet34", 3, width=4, seed=5)
    b = build_model("resnet34", 3, width=4, seed=5)
    c = build_model("resnet34", 3, width=4, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a.conv1.weight, b.conv1.weight)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_same_depth_filter_transfer_copies_exactly_the_chosen_filters():
    up, down, fresh = _pair("resnet34", "resnet34", width=8)
    alpha = 0.5
    rep = transfer_parameters(up, down, alpha, seed=3)
    ups, after = up.state_dict(), down.state_dict()
    for name, t in after.items():
        if name.endswith("num_batches_tracked"):
            continue
        if name.startswith("fc."):  # 6 vs 2 classes: not shared, left at fresh init
            assert torch.equal(t, fresh[name]), name
            continue
        rows_up = [bool(torch.equal(t[r], ups[name][r])) for r in range(t.shape[0])]
        rows_fresh = [bool(torch.equal(t[r], fresh[name][r])) for r in range(t.shape[0])]
        assert all(u != f for u, f in zip(rows_up, rows_fresh, strict=True)), name
        assert sum(rows_up) == math.floor(alpha * t.shape[0]), name
    # a BatchNorm inherits exactly the channels of the convolution before it
    conv = after["layer2.1.conv1.weight"]
    up_conv = ups["layer2.1.conv1.weight"]
    kept = [r for r in range(conv.shape[0]) if torch.equal(conv[r], up_conv[r])]
    for bn in ("weight", "bias", "running_mean", "running_var"):
        t = after[f"layer2.1.bn1.{bn}"]
        assert [r for r in range(t.shape[0]) if t[r] == ups[f"layer2.1.bn1.{bn}"][r]] == kept
    assert "fc.weight" not in rep.names and "conv1.weight" in rep.names


def _hand_list_101_to_34():
    names = ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"]
    for s, n in zip(range(1, 5), (3, 4, 6, 3), strict=True):
        for i in range(n):
            names += [f"layer{s}.{i}.conv2.weight"] + [
                f"layer{s}.{i}.bn2.{b}" for b in ("weight", "bias", "running_mean", "running_var")]
    return names


@pytest.mark.parametrize("align", ["first", "last"])
def test_cross_depth_resnet101_to_34(align):
    up, down, fresh = _pair("resnet101", "resnet34")
    rep = transfer_parameters(up, down, 1.0, align=align)
    expected = set(_hand_list_101_to_34())
    assert set(rep.names) == expected
    ups, after = up.state_dict(), down.state_dict()
    up_blocks = {"layer1": 3, "layer2": 4, "layer3": 23, "layer4": 3}
    down_blocks = {"layer1": 3, "layer2": 4, "layer3": 6, "layer4": 3}
    for name, t in after.items():
        if name in expected:
            src = name
            if align == "last" and name.startswith("layer"):
                stage, i, rest = name.split(".", 2)
                src = f"{stage}.{up_blocks[stage] - down_blocks[stage] + int(i)}.{rest}"
            assert torch.equal(t, ups[src]), name
        else:
            assert torch.equal(t, fresh[name]), name
    if align == "last":  # the last ResNet-34 block of stage 3 comes from ResNet-101 block 22
        assert torch.equal(after["layer3.5.conv2.weight"], ups["layer3.22.conv2.weight"])


def test_user_mapping_overrides_names():
    up, down, fresh = _pair("resnet101", "resnet34")
    transfer_parameters(up, down, 1.0, mapping={"layer3.5.": "layer3.22."})
    assert torch.equal(down.state_dict()["layer3.5.conv2.weight"],
                       up.state_dict()["layer3.22.conv2.weight"])
    assert torch.equal(down.state_dict()["layer3.4.conv2.weight"],
                       up.state_dict()["layer3.4.conv2.weight"])


def test_vgg16_to_vgg11_matches_convs_by_stage():
    up, down, fresh = _pair("vgg16", "vgg11", width=8)
    rep = transfer_parameters(up, down, 1.0)
    # conv k of stage s: VGG-11-bn features index -> VGG-16-bn features index (by hand)
    hand = {0: 0, 4: 7, 8: 14, 11: 17, 15: 24, 18: 27, 22: 34, 25: 37}
    ups, after = up.state_dict(), down.state_dict()
    for k, j in hand.items():
        for suffix in ("weight", "bias"):
            assert torch.equal(after[f"features.{k}.{suffix}"], ups[f"features.{j}.{suffix}"])
            assert torch.equal(after[f"features.{k + 1}.{suffix}"],
                               ups[f"features.{j + 1}.{suffix}"])
    assert torch.equal(after["classifier.weight"], fresh["classifier.weight"])
    assert len([n for n in rep.names if n.endswith("weight")]) == 16


@pytest.mark.parametrize("blocks", [(9, 10, 11), (-3, -2, -1)])
def test_vit_blocks_9_to_11(blocks):
    up, down, fresh = _pair("deit_tiny", "deit_tiny", width=16, patch_size=2)
    rep = transfer_parameters(up, down, 1.0, include=vit_blocks(blocks, 12))
    ups, after = up.state_dict(), down.state_dict()
    chosen = ("encoder.layers.encoder_layer_9.", "encoder.layers.encoder_layer_10.",
              "encoder.layers.encoder_layer_11.")
    for name, t in after.items():
        ref = ups[name] if name.startswith(chosen) else fresh[name]
        assert torch.equal(t, ref), name
    assert len(rep.names) == 3 * 12  # ln_1, in_proj, out_proj, ln_2, mlp.0, mlp.3 (w + b)


def test_entry_mode_fraction_and_provenance():
    up, down, fresh = _pair("resnet34", "resnet34", width=16)
    transfer_parameters(up, down, 0.3, mode="entry", seed=0)
    t = down.state_dict()["layer3.0.conv2.weight"]
    from_up = t == up.state_dict()["layer3.0.conv2.weight"]
    from_fresh = t == fresh["layer3.0.conv2.weight"]
    assert bool((from_up ^ from_fresh).all())
    n = t.numel()
    assert abs(from_up.float().mean().item() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)


def test_alpha_zero_is_scratch():
    up, down, fresh = _pair("resnet34", "resnet34")
    rep = transfer_parameters(up, down, 0.0)
    assert all(torch.equal(v, fresh[k]) for k, v in down.state_dict().items())
    assert rep.fraction() == 0.0


def test_timm_names_and_state_dict_file(tmp_path):
    timm = {"cls_token": torch.zeros(1, 1, 4), "pos_embed": torch.zeros(1, 5, 4),
            "patch_embed.proj.weight": torch.zeros(4, 3, 2, 2),
            "blocks.9.attn.qkv.weight": torch.zeros(12, 4), "blocks.3.norm1.bias": torch.zeros(4),
            "blocks.0.mlp.fc2.weight": torch.zeros(4, 16), "norm.weight": torch.zeros(4),
            "head.bias": torch.zeros(7), "dist_token": torch.zeros(1, 1, 4)}
    out = timm_vit_to_torchvision(timm)
    assert set(out) == {
        "class_token", "encoder.pos_embedding", "conv_proj.weight",
        "encoder.layers.encoder_layer_9.self_attention.in_proj_weight",
        "encoder.layers.encoder_layer_3.ln_1.bias", "encoder.layers.encoder_layer_0.mlp.3.weight",
        "encoder.ln.weight", "heads.head.bias", "dist_token"}
    m = build_model("resnet34", 3, width=4)
    path = tmp_path / "w.pth"
    torch.save({"model": {"module." + k: v for k, v in m.state_dict().items()}}, path)
    sd = load_state_dict_file(path)
    assert set(sd) == set(m.state_dict()) and torch.equal(sd["conv1.weight"], m.conv1.weight)
