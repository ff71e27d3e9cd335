"""ImageNet-style training: resume from start_epoch, validate() returns top-1, is_best = acc1 > best_acc1."""
import argparse
import shutil

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

best_acc1 = 0


class AverageMeter:
    """Computes and stores the average and current value."""

    def __init__(self, name):
        self.name = name
        self.sum = 0.0
        self.count = 0
        self.avg = 0.0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def small_resnet(num_classes):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, num_classes),
    )


def accuracy(output, target):
    with torch.no_grad():
        pred = output.argmax(1)
        return pred.eq(target).float().mean().item() * 100.0


def images(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 5, (n,), generator=g)
    x = torch.randn(n, 3, 12, 12, generator=g)
    x[:, 0] += y.view(-1, 1, 1) * 0.6
    return TensorDataset(x, y)


def train(train_loader, model, criterion, optimizer, epoch, args):
    losses = AverageMeter("Loss")
    top1 = AverageMeter("Acc@1")
    model.train()
    for images_, target in train_loader:
        output = model(images_)
        loss = criterion(output, target)
        losses.update(loss.item(), images_.size(0))
        top1.update(accuracy(output, target), images_.size(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"Epoch: [{epoch}] train Acc@1 {top1.avg:.4f}")


def validate(val_loader, model, criterion, args):
    top1 = AverageMeter("Acc@1")
    model.eval()
    with torch.no_grad():
        for images_, target in val_loader:
            output = model(images_)
            top1.update(accuracy(output, target), images_.size(0))
    print(f" * val Acc@1 {top1.avg:.4f}")
    return top1.avg


def save_checkpoint(state, is_best, filename="checkpoint.pth.tar"):
    torch.save(state, filename)
    if is_best:
        shutil.copyfile(filename, "model_best.pth.tar")


def main():
    global best_acc1
    parser = argparse.ArgumentParser(description="ImageNet-style Training")
    parser.add_argument("--epochs", default=4, type=int)
    parser.add_argument("--start-epoch", default=0, type=int)
    parser.add_argument("--lr", default=0.1, type=float)
    parser.add_argument("-b", "--batch-size", default=32, type=int)
    args = parser.parse_args()
    model = small_resnet(5)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    train_loader = DataLoader(images(256, 0), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(images(97, 1), batch_size=args.batch_size)
    for epoch in range(args.start_epoch, args.epochs):
        train(train_loader, model, criterion, optimizer, epoch, args)
        acc1 = validate(val_loader, model, criterion, args)
        scheduler.step()
        is_best = acc1 > best_acc1
        best_acc1 = max(acc1, best_acc1)
        save_checkpoint({"epoch": epoch + 1, "state_dict": model.state_dict(), "best_acc1": best_acc1}, is_best)


if __name__ == "__main__":
    main()
