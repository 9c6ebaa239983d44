"""Long logical lines that soft-wrap: 300 and 5000 columns, with shorter lines around them."""
import string
import sys

alphabet = string.ascii_letters + string.digits
sys.stdout.write("before the long lines\n")
sys.stdout.write("".join(alphabet[i % len(alphabet)] for i in range(300)) + "\n")
sys.stdout.write("between\n")
sys.stdout.write("".join(alphabet[(i * 7) % len(alphabet)] for i in range(5000)) + "\n")
sys.stdout.write("a line of exactly two hundred columns follows\n" + "x" * 200 + "\n" + "after\n")
