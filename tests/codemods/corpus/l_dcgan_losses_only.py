"""DCGAN-style training: generator and discriminator losses only, no validation metric at all."""
import argparse

import torch
import torch.nn as nn
import torch.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("--niter", type=int, default=2)
parser.add_argument("--nz", type=int, default=8)
parser.add_argument("--lr", type=float, default=2e-4)
opt = parser.parse_args()
torch.manual_seed(0)


class Generator(nn.Module):
    def __init__(self, nz):
        super().__init__()
        self.main = nn.Sequential(nn.ConvTranspose2d(nz, 16, 4, 1, 0), nn.BatchNorm2d(16), nn.ReLU(True),
                                  nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Conv2d(16, 1, 4, 1, 0), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


netG = Generator(opt.nz)
netD = Discriminator()
criterion = nn.BCELoss()
optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(0.5, 0.999))
real_images = torch.tanh(torch.randn(64, 1, 8, 8))
dataloader = torch.utils.data.DataLoader(real_images, batch_size=16, shuffle=True)

for epoch in range(opt.niter):
    for i, real in enumerate(dataloader):
        netD.zero_grad()
        b = real.size(0)
        errD_real = criterion(netD(real), torch.ones(b))
        fake = netG(torch.randn(b, opt.nz, 1, 1))
        errD_fake = criterion(netD(fake.detach()), torch.zeros(b))
        errD = errD_real + errD_fake
        errD.backward()
        optimizerD.step()
        netG.zero_grad()
        errG = criterion(netD(fake), torch.ones(b))
        errG.backward()
        optimizerG.step()
        print(f"[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f}")
    torch.save(netG.state_dict(), "netG.pth")
