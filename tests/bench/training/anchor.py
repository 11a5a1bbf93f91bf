"""Python PyTorch anchor of the training benchmarks: the same work as speed_bench.cc,
written the way a PyTorch user would, on the same files and thread count.

  anchor.py step ARCH SIZE BATCH THREADS WARMUP STEPS
  anchor.py epoch DIR ARCH SIZE BATCH THREADS CLASSES
  anchor.py predict MODEL THREADS WARMUP REQUESTS

Prints the same STEP / EPOCH / PREDICT lines as speed_bench.
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision


def build(arch, classes):
    """The torchvision network with a one-channel first convolution, as the platform's."""
    if arch.startswith("resnet"):
        model = getattr(torchvision.models, arch)(num_classes=classes)
        model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    elif arch.startswith("vgg"):
        model = getattr(torchvision.models, arch)(num_classes=classes)
        model.features[0] = nn.Conv2d(1, 64, kernel_size=3, padding=1)
    elif arch == "densenet121":
        model = torchvision.models.densenet121(num_classes=classes)
        model.features.conv0 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    else:
        raise SystemExit(f"architecture {arch} has no anchor here; use resnet*, vgg*_bn or densenet121")
    return model


def step(arch, size, batch, threads, warmup, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = build(arch, 4)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.rand(batch, 1, size, size)
    labels = torch.randint(0, 4, (batch,))

    def one_step():
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        one_step()
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    seconds = time.perf_counter() - start
    print(f"STEP images_per_second={steps * batch / seconds:.3f} seconds={seconds:.3f} steps={steps}")


class NpyDataset(torch.utils.data.Dataset):
    """Reads the .npy arrays listed in a "path label" file, one per item."""

    def __init__(self, list_path):
        self.items = []
        with open(list_path) as f:
            for line in f:
                path, label = line.split()
                self.items.append((path, int(label)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        return torch.from_numpy(np.load(path)).unsqueeze(0), label


def epoch(directory, arch, size, batch, threads, classes):
    torch.set_num_threads(threads)
    start = time.perf_counter()
    torch.manual_seed(1)
    train = NpyDataset(f"{directory}/train.txt")
    validation = NpyDataset(f"{directory}/validation.txt")
    train_loader = torch.utils.data.DataLoader(train, batch_size=batch, shuffle=True)
    validation_loader = torch.utils.data.DataLoader(validation, batch_size=batch)
    model = build(arch, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for images, labels in train_loader:
        if images.shape[0] < 2:
            continue
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    predictions = []
    with torch.no_grad():
        for images, labels in validation_loader:
            predictions.append(torch.softmax(model(images), 1))
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
               f"{directory}/anchor-checkpoint.pt")
    seconds = time.perf_counter() - start
    print(f"EPOCH images_per_second={len(train) / seconds:.3f} seconds={seconds:.3f} images={len(train)}")


def predict(model_path, threads, warmup, requests):
    torch.set_num_threads(threads)
    model = torch.jit.load(model_path)
    model.eval()
    side = int(model.image_size)
    torch.manual_seed(3)
    image = torch.rand(side * side).numpy()

    def one_request():
        with torch.inference_mode():
            x = torch.from_numpy(image).reshape(1, 1, side, side)
            return torch.softmax(model(x), 1).tolist()

    for _ in range(warmup):
        one_request()
    latencies = []
    for _ in range(requests):
        start = time.perf_counter()
        one_request()
        latencies.append((time.perf_counter() - start) * 1000.0)
    latencies.sort()

    def quantile(q):
        return latencies[min(int(q * (len(latencies) - 1) + 0.5), len(latencies) - 1)]

    print(f"PREDICT p50_ms={quantile(0.5):.3f} p99_ms={quantile(0.99):.3f} requests={requests}")


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    mode, args = argv[1], argv[2:]
    if mode == "step" and len(args) == 6:
        step(args[0], *map(int, args[1:]))
    elif mode == "epoch" and len(args) == 6:
        epoch(args[0], args[1], *map(int, args[2:]))
    elif mode == "predict" and len(args) == 4:
        predict(args[0], *map(int, args[1:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
