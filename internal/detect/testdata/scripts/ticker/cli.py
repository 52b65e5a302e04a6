def main():
    print("tick")
