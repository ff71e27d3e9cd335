"""GAN whose epoch summary scores generator and discriminator together: which one gets dendrites is the user's call."""
import argparse

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=4, hidden=32):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 2))

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def real_batch(n, g=None):
    angle = torch.rand(n, generator=g) * 6.2832
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) + 0.05 * torch.randn(n, 2, generator=g)


def validate(netG, netD, fixed_noise):
    """How often the discriminator is fooled by generated points (a GAN health score)."""
    netG.eval()
    with torch.no_grad():
        points = netG(fixed_noise)
    netG.train()
    return netD(points).mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--nz", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    opt = parser.parse_args()
    torch.manual_seed(0)
    netG = Generator(opt.nz)
    netD = Discriminator()
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=opt.lr, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=opt.lr, betas=(0.5, 0.999))
    fixed_noise = torch.randn(128, opt.nz)
    best_fool_acc = 0.0
    for epoch in range(opt.epochs):
        for i in range(20):
            real = real_batch(64)
            netD.zero_grad()
            errD_real = criterion(netD(real), torch.ones(64))
            fake = netG(torch.randn(64, opt.nz))
            errD_fake = criterion(netD(fake.detach()), torch.zeros(64))
            errD = errD_real + errD_fake
            errD.backward()
            optimizerD.step()
            netG.zero_grad()
            errG = criterion(netD(fake), torch.ones(64))
            errG.backward()
            optimizerG.step()
        fool_acc = validate(netG, netD, fixed_noise)
        print(f"[{epoch}] Loss_D {errD.item():.3f} Loss_G {errG.item():.3f} fool_acc {fool_acc:.3f}")
        if fool_acc > best_fool_acc:  # keep the generator that fools the discriminator most
            best_fool_acc = fool_acc
            torch.save(netG.state_dict(), "best_netG.pt")


if __name__ == "__main__":
    main()
