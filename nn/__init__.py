"""nn: layers, losses, optimisers and the car-price application, built on autotensor."""
